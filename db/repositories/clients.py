"""Queries on API clients."""

from collections.abc import Sequence

from sqlmodel import Session, col, select

from db.tables import ApiClient


class ClientRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, client_id: str) -> ApiClient | None:
        return self.session.get(ApiClient, client_id)

    def of_department(self, department_code: str) -> Sequence[ApiClient]:
        statement = (
            select(ApiClient).where(ApiClient.department_code == department_code).order_by(col(ApiClient.created_at))
        )
        return self.session.exec(statement).all()

    def add(self, client: ApiClient) -> None:
        self.session.add(client)
        self.session.flush()
