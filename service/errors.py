"""Domain errors. The API maps each class to an HTTP status in one table (api/problems.py);
the service layer itself knows nothing of HTTP."""

from typing import Any


class DomainError(Exception):
    """Base class; ``str(error)`` is a sentence safe to show to the caller."""

    title = "Request cannot be completed"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidCode(DomainError):
    title = "Invalid organization code"


class InvalidRecord(DomainError):
    """Input that is well-formed but breaks a domain rule (dates out of order, unknown grade...)."""

    title = "Invalid record"

    def __init__(self, detail: str, *, field: str | None = None, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.field = field
        self.errors = errors


class InvalidQuery(InvalidRecord):
    """A query parameter that breaks a rule (search too short, foreign cursor...)."""

    title = "Invalid query"

    def __init__(self, detail: str, *, param: str) -> None:
        super().__init__(detail, errors=[{"loc": ["query", param], "msg": detail, "type": "invalid_query"}])


class NotFound(DomainError):
    title = "Not found"


class OrganizationNotFound(NotFound):
    title = "Organization not found"


class RecordNotFound(NotFound):
    title = "Record not found"


class DepartmentNotFound(NotFound):
    title = "Department not found"


class Conflict(DomainError):
    title = "Conflict"


class DuplicateRecord(Conflict):
    """The department already entered this decision; ``existing_id`` names the record."""

    title = "Duplicate record"

    def __init__(self, detail: str, *, existing_id: str) -> None:
        super().__init__(detail)
        self.existing_id = existing_id


class ListConflict(Conflict):
    """A red-list entry the organization may not have: a black entry in force over the same time,
    or what the rule set's red-list eligibility rule excludes; ``conflicting_id`` names the record."""

    title = "Not eligible for the red list"

    def __init__(self, detail: str, *, conflicting_id: str | None = None) -> None:
        super().__init__(detail)
        self.conflicting_id = conflicting_id


class TicketPending(DuplicateRecord):
    """The same filer's objection to the same record is pending already; ``existing_id`` names it."""

    title = "Objection already pending"


class ObjectionLimit(Conflict):
    """The record has as many pending objections as the rule set allows."""

    title = "Objection limit reached"


class InvalidTransition(Conflict):
    """The record's status does not allow the change (withdrawing a withdrawn record...)."""

    title = "Invalid status change"


class NotOwner(DomainError):
    """Only the department that decided a record may correct or withdraw it."""

    title = "Not the owning department"


class MissingScope(DomainError):
    """The client's scopes do not cover this change (e.g. a list entry needs lists:write)."""

    title = "Insufficient scope"


class CursorExpired(DomainError):
    """The feed no longer holds the events after this cursor (retention deleted them)."""

    title = "Cursor expired"

    def __init__(self, detail: str, *, oldest_cursor: str, resync: str) -> None:
        super().__init__(detail)
        self.oldest_cursor, self.resync = oldest_cursor, resync
