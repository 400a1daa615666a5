"""Queries on organizations (master data)."""

from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from db.inserts import insert_rows
from db.tables import Organization, OrganizationNameGram


class OrganizationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, uscc: str) -> Organization | None:
        return self.session.get(Organization, uscc)

    def existing(self, usccs: set[str]) -> set[str]:
        if not usccs:
            return set()
        return set(self.session.exec(select(Organization.uscc).where(col(Organization.uscc).in_(sorted(usccs)))))

    def get_many(self, usccs: set[str]) -> dict[str, Organization]:
        if not usccs:
            return {}
        statement = select(Organization).where(col(Organization.uscc).in_(sorted(usccs)))
        return {o.uscc: o for o in self.session.exec(statement)}

    def find_by_org_codes(self, org_codes: set[str]) -> dict[str, Organization]:
        """By legacy code; where several USCCs embed one (only by error), the oldest registration."""
        if not org_codes:
            return {}
        statement = (select(Organization).where(col(Organization.org_code).in_(sorted(org_codes)))
                     .order_by(col(Organization.created_at).desc(), col(Organization.uscc).desc()))
        return {o.org_code: o for o in self.session.exec(statement)}

    def find_by_org_code(self, org_code: str) -> Organization | None:
        # Several USCCs can embed one legacy code only by error; the oldest registration wins.
        statement = (
            select(Organization)
            .where(Organization.org_code == org_code)
            .order_by(col(Organization.created_at), col(Organization.uscc))
            .limit(1)
        )
        return self.session.exec(statement).first()

    def lock(self, usccs: set[str]) -> None:
        """Hold these organizations' rows until commit (PostgreSQL; SQLite writers are serialized),
        in code order so that two writers never wait for each other."""
        if usccs:
            statement = select(Organization.uscc).where(col(Organization.uscc).in_(sorted(usccs)))
            self.session.exec(statement.order_by(col(Organization.uscc)).with_for_update()).all()

    def add(self, organization: Organization) -> Organization:
        self.session.add(organization)
        self.session.flush()
        return organization

    def add_many(self, organizations: list[dict[str, Any]], grams: list[dict[str, Any]]) -> None:
        """New organizations and their name-search pieces, one statement per table."""
        insert_rows(self.session, Organization, organizations)
        insert_rows(self.session, OrganizationNameGram, grams)

    def is_empty(self) -> bool:
        return self.session.exec(select(Organization.uscc).limit(1)).first() is None

    def index_name(self, uscc: str, grams: set[str]) -> None:
        """Replace the organization's name pieces in the search index."""
        self.session.execute(delete(OrganizationNameGram).where(col(OrganizationNameGram.uscc) == uscc))
        self.session.add_all(OrganizationNameGram(gram=g, uscc=uscc) for g in sorted(grams))
        self.session.flush()
