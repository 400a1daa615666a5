"""Stored first responses of idempotent writes."""

from sqlmodel import Session

from db.tables import IdempotentResponse


class IdempotencyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, client_id: str, key: str) -> IdempotentResponse | None:
        return self.session.get(IdempotentResponse, (client_id, key))

    def add(self, response: IdempotentResponse) -> None:
        self.session.add(response)
        self.session.flush()
