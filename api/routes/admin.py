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
from api.security import Admin
from service.access import audit, clients
from service.rules import reference
from service.rules.clock import Moment

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
