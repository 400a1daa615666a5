"""Department API: organizations (master data), their records, and the credit check."""

from datetime import datetime

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from sqlmodel import Session

from api.deps import AuditedRead, Now, SessionDep, Today
from api.idempotent import IdempotencyKey, respond
from api.problems import problem_responses
from api.schemas.credit import CreditCheck, SupervisionView
from api.schemas.records import (
    DisclosureCreate,
    InspectionCreate,
    OrganizationDepartmentView,
    OrganizationMaster,
    RatingCreate,
    RecordCreate,
    RecordView,
    ViolationCreate,
)
from api.security import CREDIT_CHECK_SCOPES, CreditChecker, Reader, Writer
from service.access.actors import Actor
from service.credit import checks
from service.organizations import department_view, master_data
from service.organizations.master_data import OrganizationFields
from service.records import publishing
from service.rules.clock import Day

router = APIRouter(prefix="/v1/organizations", tags=["organizations"])

CodePath = Path(description="USCC or legacy organization code, any typed form", max_length=64,
                examples=["914403001922038216"])
AUTH_ERRORS = (401, 403, 422)


@router.put("/{code}", response_model=OrganizationMaster, status_code=200, operation_id="put_organization",
            responses={201: {"model": OrganizationMaster, "description": "Registered"},
                       **problem_responses(*AUTH_ERRORS, 409)})
def put_organization(request: Request, body: OrganizationFields, session: SessionDep, actor: Writer, now: Now,
                     idempotency_key: IdempotencyKey = None, code: str = CodePath) -> Response:
    """Register an organization (201) or update its master data (200). The region comes from the
    code. Market-regulation departments keep master data; others may update only what they registered."""
    def produce() -> tuple[int, OrganizationMaster]:
        organization, created = master_data.upsert(session, code, body, now=now,
                                                     department_code=actor.department_code)
        return (201 if created else 200), OrganizationMaster.of(organization)
    return respond(request, session, actor, idempotency_key, body, produce, now=now)


@router.get("/{code}", response_model=OrganizationDepartmentView, operation_id="get_organization",
            responses=problem_responses(*AUTH_ERRORS, 404))
def get_organization(session: SessionDep, actor: Reader, today: Today,
                     code: str = CodePath) -> OrganizationDepartmentView:
    """Master data and every record the calling department may see (public, shared, and restricted
    ones naming it), with versions and status history, and the supervision class they give today."""
    view = department_view.organization_view(session, code, viewer=actor.department_code)
    viewer, kind = checks.viewer_of(session, actor)
    standing = checks.standing(session, view.organization.uscc, viewer=viewer, viewer_kind=kind, today=today)
    return OrganizationDepartmentView(organization=OrganizationMaster.of(view.organization),
                                      records=[RecordView.of(h) for h in view.records],
                                      supervision_class=SupervisionView.of(standing.supervision))


@router.get("/{code}/credit-check", response_model=CreditCheck, operation_id="credit_check",
            responses=problem_responses(*AUTH_ERRORS, 404), openapi_extra=CREDIT_CHECK_SCOPES)
def credit_check(session: AuditedRead, actor: CreditChecker, today: Today, code: str = CodePath,
                 as_of: Day | None = Query(default=None, description="Answer as the registry stood at the "
                                            "end of this day (China Standard Time); default today")
                 ) -> CreditCheck:
    """What follows from an organization's credit on a date: lists, grade, supervision class, and
    the measures that apply, those the caller's kind of department applies first. A department
    (records:read) counts the records it may see; a credit-checking system (credit:check) the
    public ones."""
    viewer, kind = checks.viewer_of(session, actor)
    return CreditCheck.of(checks.standing(session, code, viewer=viewer, viewer_kind=kind, today=today, as_of=as_of))


def _publish(request: Request, session: Session, actor: Actor, now: datetime, key: str | None, code: str,
             body: RecordCreate) -> Response:
    def produce() -> tuple[int, RecordView]:
        published = publishing.publish(session, code, body.record_fields(), department_code=actor.department_code,
                                       now=now, visibility=body.visibility, shared_with=body.shared_with)
        return 201, RecordView.of(published)
    return respond(request, session, actor, key, body, produce, now=now)


PUBLISH_RESPONSES = problem_responses(*AUTH_ERRORS, 404, 409)


@router.post("/{code}/ratings", status_code=201, response_model=RecordView, operation_id="create_rating",
             responses=PUBLISH_RESPONSES)
def create_rating(request: Request, body: RatingCreate, session: SessionDep, actor: Writer, now: Now,
                  idempotency_key: IdempotencyKey = None, code: str = CodePath) -> Response:
    """Publish a quality credit rating decided by the calling department."""
    return _publish(request, session, actor, now, idempotency_key, code, body)


@router.post("/{code}/violations", status_code=201, response_model=RecordView, operation_id="create_violation",
             responses=PUBLISH_RESPONSES)
def create_violation(request: Request, body: ViolationCreate, session: SessionDep, actor: Writer, now: Now,
                     idempotency_key: IdempotencyKey = None, code: str = CodePath) -> Response:
    """Publish an administrative penalty. Its public window follows from severity and decision date
    (the rule set in force is stored on the record). The same decision number twice is a 409."""
    return _publish(request, session, actor, now, idempotency_key, code, body)


@router.post("/{code}/disclosures", status_code=201, response_model=RecordView,
             operation_id="create_disclosure", responses=PUBLISH_RESPONSES)
def create_disclosure(request: Request, body: DisclosureCreate, session: SessionDep, actor: Writer, now: Now,
                      idempotency_key: IdempotencyKey = None, code: str = CodePath) -> Response:
    """Publish a disclosure (quality credit report, standard declaration, recall, commitment)."""
    return _publish(request, session, actor, now, idempotency_key, code, body)


@router.post("/{code}/inspections", status_code=201, response_model=RecordView,
             operation_id="create_inspection", responses=PUBLISH_RESPONSES)
def create_inspection(request: Request, body: InspectionCreate, session: SessionDep, actor: Writer, now: Now,
                      idempotency_key: IdempotencyKey = None, code: str = CodePath) -> Response:
    """Publish a spot-check result (监督抽查) of a product made by the organization `code` (the producer).
    A failed result lists its failed items with measured and required values; it shows on the
    producer's public profile and in the product search. The same report number twice is a 409."""
    return _publish(request, session, actor, now, idempotency_key, code, body)
