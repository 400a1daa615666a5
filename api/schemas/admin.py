"""Administration and token models."""

from datetime import date, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from db.tables import ApiClient, AuditEntry
from service.access.actors import Scope
from service.rules.clock import Day
from service.rules.department_kinds import DepartmentKind
from service.rules.rule_sets import Rules


class _RowView(BaseModel):
    """A view whose fields are a table row's columns of the same names."""

    @classmethod
    def of(cls, row: object) -> Self:
        return cls.model_validate(row, from_attributes=True)


class DepartmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: Annotated[str, Field(min_length=2, max_length=32, pattern=r"^[A-Z0-9][A-Z0-9_-]*$")] = Field(
        examples=["SZAMR"])
    name: Annotated[str, Field(min_length=2, max_length=200)] = Field(examples=["深圳市市场监督管理局"])
    name_en: Annotated[str, Field(min_length=2, max_length=200)] | None = None
    kind: DepartmentKind
    region_code: Annotated[str, Field(pattern=r"^[0-9]{6}$")] = Field(examples=["440300"])


class DepartmentView(_RowView):
    code: str
    name: str
    name_en: str | None
    kind: str
    region_code: str
    created_at: datetime



class DepartmentPage(BaseModel):
    items: list[DepartmentView]
    next_cursor: str | None


class ClientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, Field(min_length=1, max_length=200)] = Field(examples=["case system sync"])
    scopes: list[Scope] = Field(min_length=1, max_length=len(Scope), examples=[["records:read", "records:write"]])


class ClientView(BaseModel):
    client_id: str
    department: str
    name: str
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, client: ApiClient) -> "ClientView":
        return cls(client_id=client.client_id, department=client.department_code, name=client.name,
                   scopes=client.scopes.split(), created_at=client.created_at, revoked_at=client.revoked_at)


class ClientCreated(ClientView):
    client_secret: str = Field(description="Shown once, now; only a hash is kept")


class AuditEntryView(BaseModel):
    id: int
    at: datetime
    request_id: str
    client_id: str | None
    department: str | None
    action: str
    method: str
    resource: str
    status: int
    outcome: str
    detail: str | None

    @classmethod
    def of(cls, entry: AuditEntry) -> "AuditEntryView":
        return cls(id=entry.id or 0, at=entry.at, request_id=entry.request_id, client_id=entry.client_id,
                   department=entry.department_code, action=entry.action, method=entry.method,
                   resource=entry.resource, status=entry.status, outcome=entry.outcome, detail=entry.detail)


class AuditPage(BaseModel):
    items: list[AuditEntryView]
    next_cursor: str | None


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(examples=[900])
    scope: str = Field(examples=["records:read records:write"])


class RuleSetPublish(BaseModel):
    model_config = ConfigDict(extra="forbid")

    effective_from: Day = Field(description="Decisions on or after this date are judged by the new version; "
                                             "today or later", examples=["2027-01-01"])
    changes: dict[str, Any] = Field(
        description="What changes from the newest version (nested objects merge: one severity's window alone "
                    "is enough). The result must be a complete, valid rule set.",
        examples=[{"objection_deadline_days": 15, "violation_publicity": {"general": {"min_months": 3,
                                                                                      "max_months": 6}}}])


class RuleSetView(_RowView):
    id: int
    name: str
    version: int
    effective_from: date
    rules: Rules
    created_at: datetime

