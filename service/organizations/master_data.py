"""Organizations: master data keyed on the USCC, and finding one by any code form."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field
from sqlmodel import Session

from db.repositories.organizations import OrganizationRepository
from db.tables import Organization
from service import codes
from service.errors import DomainError, NotOwner, OrganizationNotFound
from service.public import name_index
from service.records.fields import Readable, StorableFields
from service.records.personal_data import mask_fields
from service.rules.reference import require_department
from service.statistics import counting
from service.sync import event_types, events

OrganizationStatus = Literal["operating", "suspended", "revoked", "deregistered"]
STATUS_LABELS = {
    "operating": ("存续", "Operating"),
    "suspended": ("停业", "Suspended"),
    "revoked": ("吊销", "Licence revoked"),
    "deregistered": ("注销", "Deregistered"),
}
OrganizationName = Annotated[str, Field(min_length=2, max_length=200), Readable]
PersonName = Annotated[str, Field(min_length=1, max_length=100), Readable]
Address = Annotated[str, Field(min_length=1, max_length=300), Readable]
Industry = Annotated[str, Field(min_length=1, max_length=100), Readable]


class OrganizationFields(StorableFields):
    """Master data a department registers or updates; the region comes from the code."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: OrganizationName = Field(examples=["华为技术有限公司"])
    status: OrganizationStatus = "operating"
    legal_representative: PersonName | None = None
    address: Address | None = None
    industry: Industry | None = None


def _public_columns(name: str, legal_representative: str | None) -> dict[str, Any]:
    """What the public sees of the master data, personal data masked, and the name search's form of
    it: the search index holds only what the public may see."""
    public, masked = mask_fields({"name": name, "legal_representative": legal_representative})
    return {"public_name": public["name"], "public_legal_representative": public["legal_representative"],
            "masked_fields": masked or None, "search_name": name_index.fold(str(public["name"]))}


def register(session: Session, code: str, fields: OrganizationFields, *, now: datetime,
             department_code: str | None = None, allow_nonconforming: bool = False) -> Organization:
    return upsert(session, code, fields, now=now, department_code=department_code,
                  allow_nonconforming=allow_nonconforming)[0]


def upsert(
    session: Session,
    code: str,
    fields: OrganizationFields,
    *,
    now: datetime,
    department_code: str | None = None,
    allow_nonconforming: bool = False,
) -> tuple[Organization, bool]:
    """Register an organization or update its master data; ``(organization, created)``.
    Emits ``organization.updated``.

    Master data belongs to the registration authorities: any market-regulation department may
    update it; another department may register an organization the registry does not know yet,
    and update only what it registered itself. ``department_code=None`` is an operator (CLI).
    ``allow_nonconforming`` is for administrators registering a legally issued pilot code whose
    check character does not conform; the organization is then flagged.
    """
    uscc = codes.parse_uscc(code, allow_nonconforming=allow_nonconforming)
    repository = OrganizationRepository(session)
    organization = repository.get(uscc)
    created = organization is None
    counted = counting.of_organization(organization)
    public = _public_columns(fields.name, fields.legal_representative)
    renamed = organization is None or organization.public_name != public["public_name"]
    if organization is not None and department_code is not None:
        _require_master_data_authority(session, organization, department_code)
    if organization is None:
        if department_code is not None:
            require_department(session, department_code)
        organization = Organization(
            uscc=uscc,
            registered_by=department_code,
            org_code=codes.org_code_of(uscc),
            region_code=codes.region_of(uscc),
            check_digit_valid=codes.uscc_check_digit_valid(uscc),
            created_at=now,
            updated_at=now,
            **fields.model_dump(),
        )
    else:
        for name, value in fields.model_dump().items():
            setattr(organization, name, value)
        organization.updated_at = now
    for name, value in public.items():
        setattr(organization, name, value)
    repository.add(organization)
    if renamed:
        repository.index_name(uscc, name_index.grams(organization.public_name))
    events.emit(
        session,
        event_types.ORGANIZATION_UPDATED,
        {"code": uscc, "created": created, "status": organization.status},
        at=now,
        organization_uscc=uscc,
    )
    # After the event: counts change under the event sequence's row lock (db/repositories/events.py),
    # so concurrent writers never take count rows in different orders.
    counting.move(session, counted, counting.of_organization(organization))
    return organization, created


def register_many(session: Session, items: list[tuple[int, str, OrganizationFields]], *, department_code: str,
                  now: datetime) -> dict[int, str | DomainError]:
    """Register many organizations the registry does not know yet (``upsert``'s "created" path)
    in one statement per table: rows, name-search pieces, events. Per item key: the USCC, or the
    error. Codes already registered are the caller's to send through ``upsert``."""
    require_department(session, department_code)
    outcome: dict[int, str | DomainError] = {}
    rows, grams, changes = [], [], []
    for key, code, fields in items:
        try:
            uscc = codes.parse_uscc(code)
        except DomainError as error:
            outcome[key] = error
            continue
        values = fields.model_dump()
        rows.append({"uscc": uscc, "registered_by": department_code, "org_code": codes.org_code_of(uscc),
                     "region_code": codes.region_of(uscc), "check_digit_valid": codes.uscc_check_digit_valid(uscc),
                     "created_at": now, "updated_at": now, **values,
                     **(public := _public_columns(fields.name, fields.legal_representative))})
        grams += [{"gram": gram, "uscc": uscc} for gram in sorted(name_index.grams(public["public_name"]))]
        changes.append((event_types.ORGANIZATION_UPDATED, {"code": uscc, "created": True, "status": values["status"]},
                        uscc, None))
        outcome[key] = uscc
    OrganizationRepository(session).add_many(rows, grams)
    events.emit_many(session, changes, at=now)
    counting.move(session, [], [key for row in rows for key in counting.organization_keys(row["region_code"],
                                                                                          row["status"])])
    return outcome


def _require_master_data_authority(session: Session, organization: Organization, department_code: str) -> None:
    department = require_department(session, department_code)
    if department.kind != "market_regulation" and organization.registered_by != department_code:
        raise NotOwner(f"master data of {organization.uscc} is kept by the market regulation authorities; "
                       f"{department_code} may only update organizations it registered")


def resolve_many(session: Session, typed_codes: list[str]) -> dict[str, str]:
    """USCCs of registered organizations, by the code as typed (any USCC form). Codes that are not
    a valid USCC, legacy codes and unknown organizations are left out: ``get`` says why."""
    parsed: dict[str, str] = {}
    for typed in set(typed_codes):
        try:
            code = codes.parse_code(typed)
        except DomainError:
            continue
        if code.kind == "uscc":
            parsed[typed] = code.value
    registered = OrganizationRepository(session).existing(set(parsed.values()))
    return {typed: uscc for typed, uscc in parsed.items() if uscc in registered}


def get(session: Session, code: str) -> Organization:
    """Find an organization by any form of its USCC or legacy organization code."""
    parsed = codes.parse_code(code)
    repository = OrganizationRepository(session)
    if parsed.kind == "uscc":
        organization = repository.get(parsed.value)
    else:
        organization = repository.find_by_org_code(parsed.value)
    if organization is None:
        raise OrganizationNotFound(f"no organization is registered under {parsed.value}")
    return organization
