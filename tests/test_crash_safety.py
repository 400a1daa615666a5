"""The short crash run (the full one is `make crash`): the real server and worker killed with
SIGKILL mid-traffic, on both databases; and the negative control, a build that answers before it
commits, which the harness must catch."""

import os

from tests import crash_harness

TRIALS = int(os.environ.get("CRASH_TRIALS", "2"))


def test_nothing_acknowledged_is_lost_or_repeated_and_every_event_is_delivered(db, database_url, tmp_path) -> None:
    summary = crash_harness.run(database_url, tmp_path / "data", trials=TRIALS, seed=7)
    assert summary.problems == [], summary.line()
    assert summary.delivered, summary.line()
    assert summary.trials == TRIALS and summary.acknowledged > 50, summary.line()


def test_the_harness_catches_a_build_that_answers_before_it_commits(db, database_url, tmp_path) -> None:
    summary = crash_harness.run(database_url, tmp_path / "data", trials=6, seed=7, negative_control=True,
                                delivery_seconds=5)
    # Caught either way: an acknowledged record gone after the kill, or, right after the restart,
    # an acknowledged record whose event is not committed yet.
    assert any("acknowledged records" in problem for problem in summary.problems), summary.line()
