"""Administration: departments, their API clients, and the audit log (scope `admin`)."""

from fastapi import APIRouter, Path, Query, Response

from api.deps import NAIVE_IS_CST, Cursor, Limit, Now, SessionDep, Today
from api.problems import problem_responses
from api.schemas.admin import (
    AuditEntryView,
    AuditPage,
    ClientCreate,
    ClientCreated,
    ClientView,
    DepartmentCreate,
    DepartmentPage,
    DepartmentView,
    RuleSetPublish,
    RuleSetView,
)
from api.schemas.credit import CatalogueView, GradeSchemeVersionView
from api.security import Admin
from service.access import audit, clients
from service.credit import measures
from service.credit.measures import CataloguePublish
from service.rules import grade_schemes, reference
from service.rules.clock import Moment
from service.rules.grade_schemes import SchemePublish

router = APIRouter(prefix="/v1/admin", tags=["admin"])

ADMIN_ERRORS = (401, 403, 422)
DepartmentPath = Path(max_length=32, examples=["SZAMR"])


@router.post("/departments", status_code=201, response_model=DepartmentView, operation_id="create_department",
             responses=problem_responses(*ADMIN_ERRORS, 409))
def create_department(body: DepartmentCreate, session: SessionDep, actor: Admin, now: Now) -> DepartmentView:
    """Register a department (market regulation, tax, customs, bank, insurer...)."""
    return DepartmentView.of(reference.add_department(session, now=now, **body.model_dump()))


@router.get("/departments", response_model=DepartmentPage, operation_id="list_departments",
            responses=problem_responses(*ADMIN_ERRORS))
def list_departments(session: SessionDep, actor: Admin) -> DepartmentPage:
    """Every department, by code (a province has at most a few hundred: one page)."""
    return DepartmentPage(items=[DepartmentView.of(d) for d in reference.list_departments(session)],
                          next_cursor=None)


@router.post("/departments/{code}/clients", status_code=201, response_model=ClientCreated,
             operation_id="create_client", responses=problem_responses(*ADMIN_ERRORS, 404))
def create_client(response: Response, body: ClientCreate, session: SessionDep, actor: Admin, now: Now,
                  code: str = DepartmentPath) -> ClientCreated:
    """Create an API client for a department. The secret is in this response only; keep it safe."""
    response.headers["Cache-Control"] = "no-store"
    created = clients.create(session, code, name=body.name, scopes=[s.value for s in body.scopes], now=now)
    return ClientCreated(**ClientView.of(created.client).model_dump(), client_secret=created.secret)


@router.get("/departments/{code}/clients", response_model=list[ClientView], operation_id="list_clients",
            responses=problem_responses(*ADMIN_ERRORS, 404))
def list_clients(session: SessionDep, actor: Admin, code: str = DepartmentPath) -> list[ClientView]:
    """A department's clients (never their secrets)."""
    return [ClientView.of(c) for c in clients.of_department(session, code)]


@router.delete("/clients/{client_id}", response_model=ClientView, operation_id="revoke_client",
               responses=problem_responses(*ADMIN_ERRORS, 404, 409))
def revoke_client(session: SessionDep, actor: Admin, now: Now, client_id: str = Path(max_length=40),
                  reason: str = Query("revoked by an administrator", min_length=1, max_length=500)) -> ClientView:
    """Revoke a client: its tokens stop working on their next use. The client is kept, marked revoked."""
    return ClientView.of(clients.revoke(session, client_id, reason=reason, now=now))


@router.get("/audit", response_model=AuditPage, operation_id="list_audit_entries",
            responses=problem_responses(*ADMIN_ERRORS))
def list_audit_entries(
    session: SessionDep, actor: Admin, limit: Limit = 50, cursor: Cursor = None,
    department: str | None = Query(None, max_length=32), client_id: str | None = Query(None, max_length=40),
    action: str | None = Query(None, max_length=64), outcome: str | None = Query(None, max_length=16),
    since: Moment | None = Query(None, description=f"Entries at or after this moment; {NAIVE_IS_CST}"),
    until: Moment | None = Query(None, description=f"Entries before this moment; {NAIVE_IS_CST}"),
) -> AuditPage:
    """Who did what, when, and how it ended; newest first."""
    page = audit.page(session, limit=limit, cursor=cursor, department_code=department,
                      client_id=client_id, action=action, outcome=outcome, since=since, until=until)
    return AuditPage(items=[AuditEntryView.of(e) for e in page.entries], next_cursor=page.next_cursor)


@router.get("/rule-sets", response_model=list[RuleSetView], operation_id="list_rule_sets",
            responses=problem_responses(*ADMIN_ERRORS))
def list_rule_sets(session: SessionDep, actor: Admin) -> list[RuleSetView]:
    """Every version of the deadline rules (publicity windows, list terms, objection deadline),
    oldest first. Each record names the version it was decided under (`rule_set_id`)."""
    return [RuleSetView.of(r) for r in reference.rule_set_versions(session)]


@router.post("/rule-sets", status_code=201, response_model=RuleSetView, operation_id="publish_rule_set",
             responses=problem_responses(*ADMIN_ERRORS))
def publish_rule_set(body: RuleSetPublish, session: SessionDep, actor: Admin, today: Today,
                     now: Now) -> RuleSetView:
    """Publish a new version of the rules, effective from a date (today or later). Decisions made
    on or after it are judged by it; records already entered keep their version, through
    corrections too."""
    return RuleSetView.of(reference.publish_rule_set(session, body.changes, effective_from=body.effective_from,
                                                     today=today, now=now))


@router.get("/grade-schemes", response_model=list[GradeSchemeVersionView], operation_id="list_grade_schemes",
            responses=problem_responses(*ADMIN_ERRORS))
def list_grade_schemes(session: SessionDep, actor: Admin) -> list[GradeSchemeVersionView]:
    """Every version of every grade scheme, by scheme and version. A rating names the version in
    force on its evaluation date (`grade_scheme_version_id` on the record) and keeps it."""
    return [GradeSchemeVersionView.of(v) for v in grade_schemes.versions(session)]


@router.post("/grade-schemes", status_code=201, response_model=GradeSchemeVersionView,
             operation_id="publish_grade_scheme", responses=problem_responses(*ADMIN_ERRORS))
def publish_grade_scheme(body: SchemePublish, session: SessionDep, actor: Admin, today: Today,
                         now: Now) -> GradeSchemeVersionView:
    """A new grade scheme (version 1, any effective date), or a new version of one taking effect
    today or later, after its newest version. Grades best first, each with the supervision class
    it leads to; score ranges for all grades or none, never overlapping; every class's inspection
    frequency. Ratings evaluated on or after the date are validated against the new version."""
    return GradeSchemeVersionView.of(grade_schemes.publish(session, body, today=today, now=now))


@router.get("/measures", response_model=list[CatalogueView], operation_id="list_measure_catalogues",
            responses=problem_responses(*ADMIN_ERRORS))
def list_measure_catalogues(session: SessionDep, actor: Admin) -> list[CatalogueView]:
    """Every version of the measures catalogue (守信激励、失信惩戒), oldest first."""
    return [CatalogueView.of(c) for c in measures.versions(session)]


@router.post("/measures", status_code=201, response_model=CatalogueView, operation_id="publish_measure_catalogue",
             responses=problem_responses(*ADMIN_ERRORS))
def publish_measure_catalogue(body: CataloguePublish, session: SessionDep, actor: Admin, today: Today,
                              now: Now) -> CatalogueView:
    """A new version of the whole catalogue, taking effect today or later, after the newest version.
    Credit checks on a date use the version in force that day, so earlier answers stay as given."""
    return CatalogueView.of(measures.publish(session, body, today=today, now=now))
