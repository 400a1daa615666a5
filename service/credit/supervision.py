"""Changes of supervision class are events: after every write that can move an organization's class
(a record published, corrected or ending), its class as the public records decide it is worked out
again and compared with the one last noted; a difference is noted and emitted
(``organization.supervision_changed``) in the same transaction.

Known limit: a class that changes with no write (a new grade scheme version taking effect on a
future date, a rule set changing the unrated class) is noticed at the next write about that
organization, not on the day.
"""

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session

from db.repositories.statistics import CountKey
from db.repositories.supervision import SupervisionRepository
from service.credit import checks
from service.rules.clock import local_date
from service.statistics import counting
from service.sync import event_types, events


def moves_class(kind: str, visibility: str) -> bool:
    """Only public ratings and list entries decide the class the public records give."""
    return visibility == "public" and kind in ("rating", "list_entry")


def follow(session: Session, organization_usccs: Iterable[str], *, now: datetime) -> None:
    usccs = sorted(set(organization_usccs))
    if not usccs:
        return
    repository = SupervisionRepository(session)
    noted = repository.classes_of(usccs)
    today = local_date(now)
    unrated = checks.unrated_class(session, today)
    changed = []
    before: list[CountKey] = []
    after: list[CountKey] = []
    for result in checks.standings(session, usccs, viewer=None, viewer_kind=None, today=today, classes_only=True):
        if isinstance(result, checks.CodeProblem):
            continue
        supervision = result.supervision
        # An organization never noted was in the unrated class.
        previous_class = noted.get(result.code) or unrated
        if previous_class == supervision.code:
            continue
        repository.note(result.code, supervision.code, now=now)
        before += counting.supervision_keys(result.code, noted.get(result.code))
        after += counting.supervision_keys(result.code, supervision.code)
        changed.append((event_types.SUPERVISION_CHANGED, {
            "organization": result.code, "previous_class": previous_class, "supervision_class": supervision.code,
            "reason": supervision.reason, "record_id": supervision.record_id}, result.code, None))
    events.emit_many(session, changed, at=now)
    counting.move(session, before, after)  # after the events: see service.statistics.counting
