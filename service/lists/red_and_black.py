"""Never on the red and the black list at once (domain.md §4).

One rule, "their terms meet", judged the same way everywhere: a red entry is refused while a public
black entry is in force on any day of its term; a public black listing ends the red entries whose
term meets its own; withdrawing it brings them back unless another one meets them; and the sweep
ends pairs entered before the rule was enforced. Only public black entries count: a shared or
restricted one is not a publication, and letting it end red entries would reveal it to everyone
who sees those.
"""

from collections.abc import Sequence
from datetime import date, datetime

from sqlmodel import Session

from db.repositories.records import RecordRepository
from db.tables import Record
from service.errors import ListConflict
from service.records.rows import Derived
from service.records.status import change_status
from service.rules.rule_sets import Rules, add_months

SUPERSEDED = "superseded_by_black_list"


def overlaps(one: Derived, other: Derived) -> bool:
    """Whether two terms [effective_on, ends_on) share a day (no end: open-ended)."""
    return (other.ends_on is None or one.effective_on < other.ends_on) and \
        (one.ends_on is None or other.effective_on < one.ends_on)


def require_red_list_eligible(session: Session, organization_uscc: str, red: Derived, rules: Rules, *,
                              department_code: str, black_in_call: Sequence[tuple[str, Derived]] = ()) -> None:
    """A red entry is refused while the organization is on the black list at any time of its
    term, and when the rule set's eligibility rule excludes it: a serious violation decided within
    ``red_list_clean_years`` before it takes effect. ``black_in_call``: public black terms written
    earlier in the same request, not yet visible to a query."""
    repository = RecordRepository(session)
    black = repository.black_entry_overlapping(organization_uscc, red.effective_on, red.ends_on)
    if black is not None:
        until = f" until {black.ends_on}" if black.ends_on else ""
        raise ListConflict(f"{organization_uscc} is on the black list ({black.decision_no}, record {black.id}) "
                           f"from {black.effective_on}{until}: a red entry cannot overlap it", conflicting_id=black.id)
    for decision_no, black_term in black_in_call:
        if overlaps(red, black_term):
            raise ListConflict(f"{organization_uscc} is put on the black list earlier in this request "
                               f"({decision_no}): a red entry cannot overlap it")
    if rules.red_list_clean_years:
        after = add_months(red.effective_on, -12 * rules.red_list_clean_years)
        violation = repository.latest_serious_violation(organization_uscc, after=after, through=red.effective_on,
                                                        viewer=department_code)
        if violation is not None:
            raise ListConflict(
                f"{organization_uscc} has a serious violation ({violation.decision_no}, record {violation.id}) "
                f"decided on {violation.effective_on}, within the {rules.red_list_clean_years} years the rule set "
                "requires without one before a red listing", conflicting_id=violation.id)


def end_red_entries(session: Session, *, black_id: str, organization_uscc: str, effective_on: date,
                    ends_on: date | None, now: datetime) -> None:
    """A public black listing ends the organization's active red entries whose term meets its own,
    whoever decided them: a black term recorded late and already over leaves today's red entry
    alone, and a red term that ends before a future black one starts stays."""
    for red in RecordRepository(session).red_entries_meeting(organization_uscc, effective_on, ends_on):
        change_status(session, red, "superseded", SUPERSEDED, now=now, caused_by=black_id)


def end_red_entries_under_black(session: Session, *, now: datetime) -> int:
    """End every active red entry whose term meets a public black entry's (entered before the rule
    was enforced at write time), as a black listing does: status ``superseded`` with the reason
    and the cause, and its event. Returns how many were ended."""
    ended: set[str] = set()
    for red, black in RecordRepository(session).red_entries_under_black():
        if red.id not in ended:
            change_status(session, red, "superseded", SUPERSEDED, now=now, caused_by=black.id)
            ended.add(red.id)
    return len(ended)


def reinstate_red_entries(session: Session, black_entry: Record, *, now: datetime) -> None:
    """A withdrawn black listing never happened: the red entries it ended are active again
    (those whose own term has run out since stay off the public list by their dates), unless
    another public black listing meets their term: they stay ended, now by that one, so that its
    own withdrawal brings them back."""
    repository = RecordRepository(session)
    for red in repository.superseded_by(black_entry.id):
        other = repository.black_entry_overlapping(red.organization_uscc, red.effective_on, red.ends_on)
        if other is not None:
            change_status(session, red, "superseded", SUPERSEDED, now=now, caused_by=other.id)
            continue
        change_status(session, red, "active", "reinstated: the black listing that ended it was withdrawn",
                      now=now, caused_by=black_entry.id)
