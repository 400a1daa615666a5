"""Who is asking, and what they may do. Scopes grant actions; ownership and visibility decide
which records. Visibility itself is enforced in the repositories (``db.repositories.records``)."""

from dataclasses import dataclass
from enum import StrEnum


class Scope(StrEnum):
    RECORDS_READ = "records:read"
    RECORDS_WRITE = "records:write"
    LISTS_WRITE = "lists:write"
    OBJECTIONS_HANDLE = "objections:handle"
    WEBHOOKS_MANAGE = "webhooks:manage"
    ADMIN = "admin"


SCOPE_DESCRIPTIONS = {
    Scope.RECORDS_READ: "Read organizations and the records the department may see",
    Scope.RECORDS_WRITE: "Register organizations; publish, correct and withdraw ratings, violations, disclosures",
    Scope.LISTS_WRITE: "Add, correct and remove red and black list entries",
    Scope.OBJECTIONS_HANDLE: "Decide objections and credit repair requests on the department's records",
    Scope.WEBHOOKS_MANAGE: "Manage the department's webhook endpoints",
    Scope.ADMIN: "Administer departments, clients and read the audit log",
}
ALL_SCOPES = frozenset(Scope)


@dataclass(frozen=True)
class Actor:
    """An authenticated client acting for its department."""

    client_id: str
    department_code: str
    scopes: frozenset[str]
