"""The tables: the single source of truth for the schema (Alembic autogenerates from here).

Records of all four kinds live in one ``record`` table: the columns every query filters on
(kind, organization, owner, visibility, status, list, severity, dates) are real columns, and the
kind-specific fields are a JSON document validated by ``service.records.fields``. Every version of
a record is kept, whole, in ``record_version``; ``record`` holds the current one. Nothing here is
ever deleted: status changes are rows in ``record_status_change``.
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, MetaData, String, Table, Text
from sqlmodel import Field, SQLModel

from db.types import UTCDateTime

# Deterministic constraint names, so migrations can name what they alter or drop on every database.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


def _timestamp(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a table model, for the queries written in Core (no ORM objects)."""
    table: Table = model.__table__  # type: ignore[attr-defined]  # set by SQLModel, never declared
    return table


class Department(SQLModel, table=True):
    """A body that decides and pushes records: market regulation, tax, customs, a bank, an insurer."""

    code: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=200)
    name_en: str | None = Field(default=None, max_length=200)
    kind: str = Field(max_length=32)
    region_code: str = Field(max_length=6)
    created_at: datetime = _timestamp()


class GradeScheme(SQLModel, table=True):
    __tablename__ = "grade_scheme"

    code: str = Field(primary_key=True, max_length=32)
    name_zh: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    basis: str = Field(max_length=200)


class Grade(SQLModel, table=True):
    """One grade of a scheme; ``rank`` 0 is the best grade."""

    scheme_code: str = Field(
        sa_column=Column(String(32), ForeignKey("grade_scheme.code"), primary_key=True)
    )
    code: str = Field(primary_key=True, max_length=8)
    rank: int
    label_zh: str = Field(max_length=50)
    label_en: str = Field(max_length=50)


class GradeSchemeVersion(SQLModel, table=True):
    """One version of a grade scheme: its grades (best first) with score ranges and the supervision
    class each leads to, and the classes' inspection frequencies. ``definition`` is validated by
    ``service.credit.schemes.SchemeDefinition``; a rating names the version it was given under."""

    __tablename__ = "grade_scheme_version"
    __table_args__ = (Index("uq_grade_scheme_version_scheme_version", "scheme_code", "version", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    scheme_code: str = Field(sa_column=Column(String(32), ForeignKey("grade_scheme.code"), nullable=False))
    version: int
    effective_from: date
    definition: dict[str, Any] = Field(sa_type=JSON)
    created_at: datetime = _timestamp()


class MeasureCatalogue(SQLModel, table=True):
    """One version of the catalogue of measures (守信激励、失信惩戒): what triggers each, who applies
    it, its basis and how long it lasts. ``measures`` is validated by ``service.credit.measures``."""

    __tablename__ = "measure_catalogue"

    version: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    effective_from: date
    measures: list[dict[str, Any]] = Field(sa_type=JSON)
    created_at: datetime = _timestamp()


class RuleSet(SQLModel, table=True):
    """A named, versioned set of deadline rules (publicity windows, list terms, objection deadline)."""

    __tablename__ = "rule_set"
    __table_args__ = (Index("uq_rule_set_name_version", "name", "version", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    version: int
    effective_from: date
    rules: dict[str, Any] = Field(sa_type=JSON)
    created_at: datetime = _timestamp()


class Organization(SQLModel, table=True):
    """Master data of an enterprise or other organization, keyed on its USCC."""

    # Names that start with a search (the exact name first), in the order of the result pages.
    __table_args__ = (Index("ix_organization_search_name", "search_name", "uscc"),)

    uscc: str = Field(primary_key=True, min_length=18, max_length=18)
    # Positions 9-17 of the USCC: legacy (GB 11714) lookups resolve through this column.
    org_code: str = Field(max_length=9, index=True)
    name: str = Field(max_length=200)
    # What the public sees of the name and the legal representative: personal data typed into them
    # masked when written (service.records.personal_data), so no public read path can forget to.
    public_name: str = Field(max_length=300)
    # The public name as searches compare it (NFKC, lower case, simplified); see service.public.name_index.fold.
    # Compared in code-point order on PostgreSQL whatever the database's locale: the ranked search
    # reads "names starting with" as a range, which a linguistic collation (en_US, zh_CN pinyin) breaks.
    search_name: str = Field(sa_column=Column(String(300).with_variant(String(300, collation="C"), "postgresql"),
                                              nullable=False))
    region_code: str = Field(max_length=6, index=True)
    status: str = Field(max_length=16)
    legal_representative: str | None = Field(default=None, max_length=100)
    public_legal_representative: str | None = Field(default=None, max_length=200)
    # Names of the public fields in which personal data was masked; NULL: none.
    masked_fields: list[str] | None = Field(default=None, sa_type=JSON)
    address: str | None = Field(default=None, max_length=300)
    industry: str | None = Field(default=None, max_length=100)
    # False only for legally issued pilot codes an administrator registered as an exception.
    check_digit_valid: bool = True
    # The department that first registered it (NULL: loaded by an operator, e.g. demo data).
    registered_by: str | None = Field(default=None, foreign_key="department.code", max_length=32)
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class OrganizationNameGram(SQLModel, table=True):
    """Every two- and three-character piece of every organization's name: the name-search index.

    A trigram index alone (FTS5, pg_trgm) cannot serve the two-character queries people type most
    (华为, 腾讯); bigrams alone make a query of common pairs read long lists. Both, in one table,
    serve every query of two or more characters identically on SQLite and PostgreSQL. The primary
    key (gram, uscc) is the index: one piece's organizations, in code order, which is also the
    order of the result pages.
    """

    __tablename__ = "organization_name_gram"
    # On SQLite the table is its own index (no rowid B-tree beside it): about half the size.
    __table_args__ = {"sqlite_with_rowid": False}

    gram: str = Field(sa_column=Column(String(3), primary_key=True))
    uscc: str = Field(sa_column=Column(String(18), ForeignKey("organization.uscc"), primary_key=True))


class Record(SQLModel, table=True):
    """The current version of a rating, violation, disclosure or list entry."""

    __table_args__ = (
        # The natural key of a decision: a department cannot enter the same decision twice.
        # NULL decision numbers (ratings, disclosures) never collide.
        Index("uq_record_department_kind_decision", "department_code", "kind", "decision_no", unique=True),
        Index("ix_record_organization_status", "organization_uscc", "status"),
        Index("ix_record_list", "list_name", "status", "effective_on"),
        Index("ix_record_status_ends_on", "status", "ends_on"),  # the lifecycle sweep's question
    )

    id: str = Field(primary_key=True, max_length=40)
    kind: str = Field(max_length=16)
    organization_uscc: str = Field(foreign_key="organization.uscc", max_length=18)
    department_code: str = Field(foreign_key="department.code", max_length=32)
    visibility: str = Field(max_length=16)
    status: str = Field(max_length=16)
    status_reason: str | None = Field(default=None, sa_type=Text)
    version: int = 1
    decision_no: str | None = Field(default=None, max_length=100)
    list_name: str | None = Field(default=None, max_length=8)
    severity: str | None = Field(default=None, max_length=16)
    grade_scheme: str | None = Field(default=None, max_length=32)
    grade: str | None = Field(default=None, max_length=8)
    # When the record takes effect (decision, evaluation, publication or listing date) and when
    # its public life ends (publicity window, list term, rating validity); NULL = open-ended.
    effective_on: date
    ends_on: date | None = None
    rule_set_id: int | None = Field(default=None, foreign_key="rule_set.id")
    # A rating's grade scheme version: the one in force on its evaluation date, kept for ever.
    grade_scheme_version_id: int | None = Field(default=None, foreign_key="grade_scheme_version.id")
    details: dict[str, Any] = Field(sa_type=JSON)
    # The kind's public summary fields with personal data masked, computed when the version is
    # written: the public reads this, never ``details``.
    public_summary: dict[str, Any] = Field(sa_type=JSON)
    # Names of the summary fields in which personal data was masked; NULL: none.
    masked_fields: list[str] | None = Field(default=None, sa_type=JSON)
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class RecordVersion(SQLModel, table=True):
    """Every version of a record as it was written, never changed afterwards."""

    __tablename__ = "record_version"

    record_id: str = Field(sa_column=Column(String(40), ForeignKey("record.id"), primary_key=True))
    version: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    department_code: str = Field(foreign_key="department.code", max_length=32)
    reason: str | None = Field(default=None, sa_type=Text)
    content: dict[str, Any] = Field(sa_type=JSON)
    # The public window this version gave the record, so "as of" questions need no rule replay.
    effective_on: date | None = None
    ends_on: date | None = None
    created_at: datetime = _timestamp()


class RecordAccess(SQLModel, table=True):
    """Departments a restricted record is shared with, besides its owner."""

    __tablename__ = "record_access"

    record_id: str = Field(sa_column=Column(String(40), ForeignKey("record.id"), primary_key=True))
    department_code: str = Field(
        sa_column=Column(String(32), ForeignKey("department.code"), primary_key=True)
    )


class RecordStatusChange(SQLModel, table=True):
    """The trail of a record's statuses: when, to what, and why."""

    __tablename__ = "record_status_change"

    id: int | None = Field(default=None, primary_key=True)
    record_id: str = Field(foreign_key="record.id", max_length=40, index=True)
    status: str = Field(max_length=16)
    reason: str = Field(sa_type=Text)
    # The record whose change caused this one (a black entry that superseded a red one), so the
    # effect can be undone when the cause is withdrawn.
    caused_by: str | None = Field(default=None, foreign_key="record.id", max_length=40, index=True)
    changed_at: datetime = _timestamp()


class EventCounter(SQLModel, table=True):
    """One row per counter; the event sequence is taken from it inside the writing transaction,
    so sequence numbers are gap-free and in commit order (a plain sequence is neither on PostgreSQL)."""

    __tablename__ = "event_counter"

    name: str = Field(primary_key=True, max_length=32)
    value: int = Field(sa_column=Column(BigInteger, nullable=False))


class Event(SQLModel, table=True):
    """The event log: one row per change, written in the change's own transaction."""

    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    id: str = Field(max_length=40, unique=True)
    type: str = Field(max_length=64, index=True)
    occurred_at: datetime = _timestamp(index=True)  # retention finds old events by it
    organization_uscc: str | None = Field(default=None, max_length=18)
    record_id: str | None = Field(default=None, max_length=40)
    # The exact bytes of the envelope: what is stored is what is served and signed.
    envelope: str = Field(sa_type=Text)


class ApiClient(SQLModel, table=True):
    """A machine client of a department (OAuth2 client credentials). The secret is kept only as a
    slow hash; revoking sets ``revoked_at`` and the client's tokens stop working at once."""

    __tablename__ = "api_client"

    client_id: str = Field(primary_key=True, max_length=40)
    department_code: str = Field(foreign_key="department.code", max_length=32, index=True)
    name: str = Field(max_length=200)
    scopes: str = Field(max_length=500)  # space-separated, as in OAuth2
    secret_hash: str = Field(max_length=300)
    created_at: datetime = _timestamp()
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_reason: str | None = Field(default=None, max_length=500)


class AuditEntry(SQLModel, table=True):
    """Who did what, when, and how it ended. Append-only: database triggers refuse updates and
    deletes (see the migration)."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_department_id", "department_code", "id"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"),
                                                          primary_key=True, autoincrement=True))
    at: datetime = _timestamp()
    request_id: str = Field(max_length=64)
    client_id: str | None = Field(default=None, max_length=40)
    department_code: str | None = Field(default=None, max_length=32)
    action: str = Field(max_length=64, index=True)
    method: str = Field(max_length=8)
    resource: str = Field(max_length=300)
    status: int
    outcome: str = Field(max_length=16)
    detail: str | None = Field(default=None, max_length=500)


class IdempotentResponse(SQLModel, table=True):
    """The first response to a write sent with an ``Idempotency-Key``, stored in the write's own
    transaction so a retry gets exactly that response and never a second copy of the write."""

    __tablename__ = "idempotent_response"

    client_id: str = Field(sa_column=Column(String(40), primary_key=True))
    key: str = Field(sa_column=Column(String(200), primary_key=True))
    request_hash: str = Field(max_length=64)
    status: int
    body: str = Field(sa_type=Text)
    created_at: datetime = _timestamp()


class _Ticket(SQLModel):
    """What the public files about a record and follows with a ticket id and a secret (kept only
    as a hash); decided later by the record's department."""

    id: str = Field(primary_key=True, max_length=40)
    record_id: str = Field(foreign_key="record.id", max_length=40, index=True)
    status: str = Field(max_length=16)
    contact: str = Field(max_length=200)  # personal data: never public
    secret_hash: str = Field(max_length=64)
    filed_at: datetime = _timestamp()
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_reason: str | None = Field(default=None, sa_type=Text)


class Objection(_Ticket, table=True):
    """An objection (异议) to a published record: pending, then corrected, upheld or withdrawn."""

    reason: str = Field(sa_type=Text)
    evidence_url: str | None = Field(default=None, max_length=500)
    rule_set_id: int | None = Field(default=None, foreign_key="rule_set.id")
    deadline: date


class RepairRequest(_Ticket, table=True):
    """An application for credit repair (信用修复): pending, then approved or rejected."""

    __tablename__ = "repair_request"

    statement: str = Field(sa_type=Text)
    commitment: str = Field(sa_type=Text)  # the public credit commitment (信用承诺)


class WebhookEndpoint(SQLModel, table=True):
    """Where a department wants events pushed. Disabled endpoints get no new deliveries."""

    __tablename__ = "webhook_endpoint"

    id: str = Field(primary_key=True, max_length=40)
    department_code: str = Field(foreign_key="department.code", max_length=32, index=True)
    url: str = Field(max_length=500)
    description: str | None = Field(default=None, max_length=200)
    event_types: list[str] | None = Field(default=None, sa_type=JSON)  # None: every type
    status: str = Field(max_length=16)  # enabled, disabled
    disabled_reason: str | None = Field(default=None, max_length=32)  # manual, gone_410
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class WebhookSecret(SQLModel, table=True):
    """Signing secrets of an endpoint: the current one (no expiry) and, after a rotation, the
    previous ones until their grace period ends (they sign too, so receivers can switch over)."""

    __tablename__ = "webhook_secret"

    id: int | None = Field(default=None, primary_key=True)
    endpoint_id: str = Field(foreign_key="webhook_endpoint.id", max_length=40, index=True)
    # Sealed with the registry's secrets key (db.sealing): the database alone cannot sign.
    secret: str = Field(max_length=200)
    created_at: datetime = _timestamp()
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebhookDelivery(SQLModel, table=True):
    """One event to one endpoint: created in the event's own transaction (the outbox), then
    claimed by a worker under a lease, attempted, retried on a schedule, or given up (failed)."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
        # A claimer takes one endpoint's oldest due deliveries; replay and retention go by event.
        Index("ix_webhook_delivery_endpoint_due", "endpoint_id", "status", "next_attempt_at"),
        Index("ix_webhook_delivery_event_seq", "event_seq"),
    )

    id: str = Field(primary_key=True, max_length=40)
    endpoint_id: str = Field(foreign_key="webhook_endpoint.id", max_length=40, index=True)
    event_seq: int = Field(sa_column=Column(BigInteger, ForeignKey("event.seq"), nullable=False))
    status: str = Field(max_length=16)  # pending, sending, succeeded, failed
    # scheduled (from the change: retried on the schedule) or manual (resend/replay: one attempt)
    trigger: str = Field(default="scheduled", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = _timestamp()
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lease_owner: str | None = Field(default=None, max_length=64)
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class WebhookAttempt(SQLModel, table=True):
    """Each try of a delivery: when, how long, what came back."""

    __tablename__ = "webhook_attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: str = Field(foreign_key="webhook_delivery.id", max_length=40, index=True)
    attempt_no: int
    started_at: datetime = _timestamp()
    duration_ms: int
    status_code: int | None = None
    error: str | None = Field(default=None, max_length=200)


class Batch(SQLModel, table=True):
    """A bulk push: lines of records and master data from one department, applied in chunks
    (each committed with its lines' results) or all at once (atomic)."""

    __table_args__ = (Index("uq_batch_client_key", "client_id", "idempotency_key", unique=True),)

    id: str = Field(primary_key=True, max_length=40)
    department_code: str = Field(foreign_key="department.code", max_length=32)
    client_id: str = Field(max_length=40)
    idempotency_key: str | None = Field(default=None, max_length=200)
    format: str = Field(max_length=8)  # ndjson, csv
    atomic: bool = False
    status: str = Field(max_length=16)  # running, completed, rejected (atomic with a failing line)
    lines: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()  # a heartbeat while running: a stale one may be resumed
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class BatchLine(SQLModel, table=True):
    """What became of one line of a batch, written in the same transaction as the line's record."""

    __tablename__ = "batch_line"

    batch_id: str = Field(sa_column=Column(String(40), ForeignKey("batch.id"), primary_key=True))
    line: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    outcome: str = Field(max_length=16)  # accepted, duplicate, rejected, not_applied (atomic batch refused)
    kind: str | None = Field(default=None, max_length=16)
    record_id: str | None = Field(default=None, max_length=40)
    organization: str | None = Field(default=None, max_length=18)
    existing_id: str | None = Field(default=None, max_length=40)
    field: str | None = Field(default=None, max_length=100)
    message: str | None = Field(default=None, sa_type=Text)


class MeasureApplication(SQLModel, table=True):
    """A department's report that it applied a measure to an organization (反馈)."""

    __tablename__ = "measure_application"
    __table_args__ = (
        # One decision applies one measure once: a resent report is a conflict, not a second count.
        Index("uq_measure_application_decision", "department_code", "measure_code", "decision_no", unique=True),
        Index("ix_measure_application_organization", "organization_uscc"),
        Index("ix_measure_application_trigger", "trigger_record_id"),
    )

    id: str = Field(primary_key=True, max_length=40)
    organization_uscc: str = Field(foreign_key="organization.uscc", max_length=18)
    measure_code: str = Field(max_length=64)
    catalogue_version: int
    department_code: str = Field(foreign_key="department.code", max_length=32)
    decision_no: str = Field(max_length=100)
    decided_on: date
    trigger_record_id: str = Field(foreign_key="record.id", max_length=40)
    note: str | None = Field(default=None, max_length=1000)
    created_at: datetime = _timestamp()


class SupervisionState(SQLModel, table=True):
    """The supervision class the public records last gave an organization, so a change of class
    is noticed (and its event written) when a write changes it."""

    __tablename__ = "supervision_state"

    organization_uscc: str = Field(sa_column=Column(String(18), ForeignKey("organization.uscc"), primary_key=True))
    supervision_class: str = Field(max_length=8)
    changed_at: datetime = _timestamp()


class ReportSigningKey(SQLModel, table=True):
    """A key that signs credit reports. Reports verify for ever, so a key is never deleted: when it
    stops signing (``retired_at``) its public half stays in the JWKS. The private half is sealed."""

    __tablename__ = "report_signing_key"

    kid: str = Field(primary_key=True, max_length=64)
    public_jwk: dict[str, Any] = Field(sa_type=JSON)
    sealed_private_key: str = Field(sa_type=Text)
    created_at: datetime = _timestamp()
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CreditReport(SQLModel, table=True):
    """A credit report as issued: the signed document itself, so ``/verify/{id}`` can show it."""

    __tablename__ = "credit_report"

    id: str = Field(primary_key=True, max_length=40)
    organization_uscc: str = Field(foreign_key="organization.uscc", max_length=18, index=True)
    as_of: date
    issued_at: datetime = _timestamp()
    kid: str = Field(foreign_key="report_signing_key.kid", max_length=64)
    jws: str = Field(sa_type=Text)
    # Who asked (client and department), kept beside the audit entry of the request.
    client_id: str | None = Field(default=None, max_length=40)
    department_code: str | None = Field(default=None, max_length=32)


# --- Complaints and reports (投诉举报) ---------------------------------------------------------


class Complaint(SQLModel, table=True):
    """A complaint or report (投诉举报) from the public about an organization or a product, handled
    by one department at a time (``department_code``; NULL: the administrators' queue) and
    followed by the filer with a ticket id and a secret (kept only as a hash)."""

    __table_args__ = (
        # A department's queue in filing order, and the overdue counts by department.
        Index("ix_complaint_department", "department_code", "status", "id"),
        # One open complaint per filer and subject: set while open, NULL once decided (NULLs never clash).
        Index("uq_complaint_open_key", "open_key", unique=True),
        # The overdue counts of /metrics read only the late ones, never the decided complaints kept for ever.
        Index("ix_complaint_status_accept_by", "status", "accept_by"),
        Index("ix_complaint_status_resolve_by", "status", "resolve_by"),
    )

    id: str = Field(primary_key=True, max_length=40)
    subject: str = Field(max_length=16)  # organization, product
    organization_uscc: str | None = Field(default=None, foreign_key="organization.uscc", max_length=18, index=True)
    product_name: str | None = Field(default=None, max_length=200)
    brand: str | None = Field(default=None, max_length=100)
    category: str = Field(max_length=32)
    description: str = Field(sa_type=Text)  # as written, for the handling department
    public_description: str = Field(sa_type=Text)  # personal data masked: what the filer's status page shows
    evidence_urls: list[str] = Field(sa_type=JSON)
    contact: str | None = Field(default=None, max_length=200)  # personal data: the handling department only
    anonymous: bool = False  # the filer's identity is never passed on
    # SHA-256 of the filer (contact as they write it) and the subject, while the complaint is open.
    open_key: str | None = Field(default=None, max_length=64)
    status: str = Field(max_length=16)  # submitted, accepted, rejected, closed
    department_code: str | None = Field(default=None, foreign_key="department.code", max_length=32)
    rule_set_id: int = Field(foreign_key="rule_set.id")
    accept_by: date
    resolve_by: date | None = None
    secret_hash: str = Field(max_length=64)
    filed_at: datetime = _timestamp()
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # rejected or closed
    answer: str | None = Field(default=None, sa_type=Text)  # the reason of a rejection, or the result
    public_answer: str | None = Field(default=None, sa_type=Text)  # the same, personal data masked


class ComplaintAction(SQLModel, table=True):
    """The trail of a complaint: filed, routed, accepted, rejected, transferred, closed; who and why."""

    __tablename__ = "complaint_action"

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: str = Field(foreign_key="complaint.id", max_length=40, index=True)
    action: str = Field(max_length=16)
    department_code: str | None = Field(default=None, max_length=32)  # who acted (NULL: the filer)
    client_id: str | None = Field(default=None, max_length=40)
    to_department: str | None = Field(default=None, max_length=32)  # routed or transferred to
    reason: str | None = Field(default=None, sa_type=Text)
    at: datetime = _timestamp()


# --- Spot checks (监督抽查): the public product search index -----------------------------------


class InspectionProduct(SQLModel, table=True):
    """A public, active spot-check result as the product search reads it: kept in the same
    transaction as each write of the record (service.public.inspections.follow), from the masked
    public summary only; a withdrawn result leaves it at once.

    ``sort_key`` (publication date, then record id) orders the results newest first and is the
    keyset cursor: one column, so every page is one range read of an index."""

    __tablename__ = "inspection_product"
    __table_args__ = (
        Index("uq_inspection_product_sort_key", "sort_key", unique=True),
        Index("ix_inspection_product_producer", "organization_uscc", "sort_key"),
        Index("ix_inspection_product_result", "result", "sort_key"),  # the newest failures (home page)
        Index("ix_inspection_product_category", "product_category", "sort_key"),  # a category's newest
    )

    record_id: str = Field(sa_column=Column(String(40), ForeignKey("record.id"), primary_key=True))
    sort_key: str = Field(max_length=60)
    organization_uscc: str = Field(max_length=18)
    region_code: str = Field(max_length=6)
    # Folded text (name_index.fold), unbounded: folding (NFKC) and masking can make a 200-character
    # field several times longer (ﷺ alone is 18 characters folded).
    product_category: str = Field(sa_type=Text)  # as the filter compares it
    result: str = Field(max_length=8)
    published_on: date
    # Product name and brand as searches compare them (name_index.fold of the masked public text).
    search_name: str = Field(sa_type=Text)
    search_brand: str | None = Field(default=None, sa_type=Text)


class InspectionProductGram(SQLModel, table=True):
    """Every two- and three-character piece of each searchable product's name and brand (as
    ``organization_name_gram`` for names). The primary key (gram, sort_key) is the index and
    the order of the result pages: a piece's products, newest first when read backwards."""

    __tablename__ = "inspection_product_gram"
    __table_args__ = {"sqlite_with_rowid": False}

    gram: str = Field(sa_column=Column(String(3), primary_key=True))
    sort_key: str = Field(sa_column=Column(String(60), primary_key=True))
    record_id: str = Field(sa_column=Column(String(40), ForeignKey("record.id"), nullable=False, index=True))


# --- Statistics (issue 19 item 3) ---


class StatisticCount(SQLModel, table=True):
    """A count of the public statistics, kept current by the writes that change it: one row per
    statistic, division, year (0: not counted by year), facet and detail (e.g. a product category
    and a spot-check result), and shard. A read sums the rows a filter selects, never the records.

    Each fact is counted at three levels (``level`` is the length of ``region_code``): its county
    (6 digits), its province (2) and the country (''), each in its year and in year 0 (all years
    together), so a national or provincial table reads a few hundred rows however many of the
    ~3,000 counties and the years hold records; a city reads its counties.

    On PostgreSQL a row updated by one transaction is locked until it commits: the shard (one per
    writing transaction, chosen at random) lets concurrent writers of the same facet update
    different rows instead of waiting on one another. Reads sum over shards."""

    __tablename__ = "statistic_count"
    __table_args__ = {"sqlite_with_rowid": False}

    statistic: str = Field(sa_column=Column(String(32), primary_key=True))
    level: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    # Before the division in the key: a read of year 0 (all years) ranges over divisions directly.
    year: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    region_code: str = Field(sa_column=Column(String(6), primary_key=True))
    # The public (masked) text of a category: masking can make a 200-character field longer.
    facet: str = Field(sa_column=Column(Text, primary_key=True))
    detail: str = Field(sa_column=Column(Text, primary_key=True))
    shard: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    count: int = Field(sa_column=Column(BigInteger, nullable=False))
