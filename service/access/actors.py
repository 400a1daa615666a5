"""Who is asking, and what they may do. Scopes grant actions; ownership and visibility decide
which records. Visibility itself is enforced in the repositories (``db.repositories.records``)."""

from dataclasses import dataclass
from enum import StrEnum


class Scope(StrEnum):
    RECORDS_READ = "records:read"
    RECORDS_WRITE = "records:write"
    LISTS_WRITE = "lists:write"
    OBJECTIONS_HANDLE = "objections:handle"
    # Complaints from the public (投诉举报): the market regulator's intake, with the filers' contacts.
    COMPLAINTS_HANDLE = "complaints:handle"
    WEBHOOKS_MANAGE = "webhooks:manage"
    ADMIN = "admin"
    # For bidding, procurement, licensing and lending systems: the credit check and the signed
    # report, never the records themselves.
    CREDIT_CHECK = "credit:check"


SCOPE_DESCRIPTIONS = {
    Scope.RECORDS_READ: "Read organizations and the records the department may see",
    Scope.RECORDS_WRITE: "Register organizations; publish, correct and withdraw ratings, violations, disclosures",
    Scope.LISTS_WRITE: "Add, correct and remove red and black list entries",
    Scope.OBJECTIONS_HANDLE: "Decide objections and credit repair requests on the department's records",
    Scope.COMPLAINTS_HANDLE: "Handle the complaints routed to the department (accept, reject, transfer, close)",
    Scope.WEBHOOKS_MANAGE: "Manage the department's webhook endpoints",
    Scope.ADMIN: "Administer departments, clients and read the audit log",
    Scope.CREDIT_CHECK: "Check organizations' credit (one or in bulk) and issue signed credit reports; no records",
}
ALL_SCOPES = frozenset(Scope)


@dataclass(frozen=True)
class Actor:
    """An authenticated client acting for its department."""

    client_id: str
    department_code: str
    scopes: frozenset[str]
