"""The supervision class last noted for each organization."""

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from db.tables import SupervisionState


class SupervisionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def classes_of(self, usccs: Sequence[str]) -> dict[str, str]:
        statement = select(SupervisionState).where(col(SupervisionState.organization_uscc).in_(usccs))
        return {s.organization_uscc: s.supervision_class for s in self.session.exec(statement)}

    def note(self, uscc: str, supervision_class: str, *, now: datetime) -> None:
        state = self.session.get(SupervisionState, uscc)
        if state is None:
            state = SupervisionState(organization_uscc=uscc, supervision_class=supervision_class, changed_at=now)
        state.supervision_class, state.changed_at = supervision_class, now
        self.session.add(state)
        self.session.flush()
