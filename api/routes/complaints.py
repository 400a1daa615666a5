"""Complaints and reports (投诉举报): filed by anyone (public, rate limited), followed with the
ticket secret, handled by the department they are routed to (scope ``complaints:handle``), and
routed by the administrators when no department was found (scope ``admin``)."""

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.responses import Response as ResponseType
from pydantic import BaseModel

from api.deps import Cursor, Limit, Now, ReadSession, SessionDep, Today
from api.idempotent import IdempotencyKey, respond
from api.problems import problem_responses
from api.routes.organizations import AUTH_ERRORS
from api.schemas.complaints import ComplaintFiled, ComplaintPage, ComplaintStatus, ComplaintView
from api.security import Admin, ComplaintHandler
from service.access.actors import Actor
from service.complaints import filing, handling
from service.complaints.filing import ComplaintFiling
from service.complaints.handling import Acceptance, Closing, ComplaintState, Handler, Rejection, Transfer

public_router = APIRouter(prefix="/v1/public", tags=["public"])
router = APIRouter(prefix="/v1", tags=["complaints"])

NO_STORE = "no-store"


def _complaint_id() -> Any:
    # One Path() per route: FastAPI keeps the parameter's name in it.
    return Path(max_length=40, pattern=r"^cmp_[0-9A-Z]{26}$")


TicketSecret = Annotated[str, Header(alias="Ticket-Secret", min_length=10, max_length=100,
                                     description="The secret given when the complaint was filed")]


@public_router.post("/complaints", status_code=201, response_model=ComplaintFiled, operation_id="file_complaint",
                    responses=problem_responses(404, 409, 422, 429))
def file_complaint(response: Response, body: ComplaintFiling, session: SessionDep, now: Now) -> filing.Filed:
    """File a complaint or report (投诉举报) about an organization or a product. It goes to the
    market-regulation department of the organization's region (walking up county, city,
    province), else to the administrators, who route it; the department must accept or reject it
    by `accept_by`. Keep the ticket and the secret: both are needed to follow it, and the secret is
    shown only now. The contact is seen by the handling department alone. One open complaint per
    contact and organization or product (409, naming no ticket: the contact may be someone else's)."""
    response.headers["Cache-Control"] = NO_STORE
    return filing.file_complaint(session, body, now=now)


@public_router.get("/complaints/{ticket}", response_model=ComplaintStatus, operation_id="get_complaint_status",
                   responses=problem_responses(404, 422, 429))
def get_complaint_status(response: Response, session: ReadSession, today: Today, secret: TicketSecret,
                         ticket: str = _complaint_id()) -> filing.ComplaintStatus:
    """The state of a complaint, for whoever holds its ticket and secret (header Ticket-Secret):
    status, deadlines, the department's reason or result. Personal data is masked."""
    response.headers["Cache-Control"] = NO_STORE
    return filing.complaint_status(session, ticket, secret, today=today)


def _handler(actor: Actor) -> Handler:
    return Handler(actor.department_code, actor.client_id)


def _page(session: SessionDep, handler: Handler, today: Today, status: ComplaintState | None, overdue: bool,
          cursor: str | None, limit: int, *, contact: bool) -> ComplaintPage:
    page = handling.complaints(session, handler, status=status, overdue_on=today if overdue else None, cursor=cursor,
                               limit=limit)
    return ComplaintPage(items=[ComplaintView.of(c, today, contact=contact) for c in page.items],
                         next_cursor=page.next_cursor)


@router.get("/complaints", response_model=ComplaintPage, operation_id="list_complaints",
            responses=problem_responses(*AUTH_ERRORS, 422))
def list_complaints(session: SessionDep, actor: ComplaintHandler, today: Today, limit: Limit = 50,
                    cursor: Cursor = None, status: ComplaintState | None = Query(None),
                    overdue: bool = Query(False, description="Only those past their deadline")) -> ComplaintPage:
    """The complaints the department handles, in filing order."""
    return _page(session, _handler(actor), today, status, overdue, cursor, limit, contact=True)


@router.get("/complaints/{complaint_id}", response_model=ComplaintView, operation_id="get_complaint",
            responses=problem_responses(*AUTH_ERRORS, 404, 422))
def get_complaint(session: SessionDep, actor: ComplaintHandler, today: Today,
                  complaint_id: str = _complaint_id()) -> ComplaintView:
    """One complaint the department handles, with its trail (another department's: 404)."""
    found, trail = handling.complaint(session, complaint_id, _handler(actor))
    return ComplaintView.of(found, today, trail=trail)


def _act(request: Request, session: SessionDep, actor: Actor, key: str | None, body: BaseModel, today: Today, now: Now,
         action: handling.Action, complaint_id: str) -> ResponseType:
    def produce() -> tuple[int, ComplaintView]:
        return 200, ComplaintView.of(action(session, complaint_id, body, _handler(actor), now=now), today)
    return respond(request, session, actor, key, body, produce, now=now)


_ACTION_ERRORS = problem_responses(*AUTH_ERRORS, 404, 409, 422)


@router.post("/complaints/{complaint_id}/accept", response_model=ComplaintView, operation_id="accept_complaint",
             responses=_ACTION_ERRORS)
def accept_complaint(request: Request, session: SessionDep, actor: ComplaintHandler, today: Today, now: Now,
                     body: Acceptance | None = None, idempotency_key: IdempotencyKey = None,
                     complaint_id: str = _complaint_id()) -> ResponseType:
    """Accept a submitted complaint (受理): the result is due by `resolve_by` (the rule set's
    `complaint_resolution_days` from today). The body (a note for the trail) is optional."""
    return _act(request, session, actor, idempotency_key, body or Acceptance(), today, now, handling.accept,
                complaint_id)


@router.post("/complaints/{complaint_id}/reject", response_model=ComplaintView, operation_id="reject_complaint",
             responses=_ACTION_ERRORS)
def reject_complaint(request: Request, body: Rejection, session: SessionDep, actor: ComplaintHandler, today: Today,
                     now: Now, idempotency_key: IdempotencyKey = None, complaint_id: str = _complaint_id()) -> ResponseType:
    """Refuse a submitted complaint (不予受理) with a reason the filer reads."""
    return _act(request, session, actor, idempotency_key, body, today, now, handling.reject, complaint_id)


@router.post("/complaints/{complaint_id}/transfer", response_model=ComplaintView, operation_id="transfer_complaint",
             responses=_ACTION_ERRORS)
def transfer_complaint(request: Request, body: Transfer, session: SessionDep, actor: ComplaintHandler, today: Today,
                       now: Now, idempotency_key: IdempotencyKey = None,
                       complaint_id: str = _complaint_id()) -> ResponseType:
    """Hand a submitted complaint to another department, with a reason. From then on the new
    department sees it (with a fresh acceptance deadline) and this one no longer does."""
    return _act(request, session, actor, idempotency_key, body, today, now, handling.transfer, complaint_id)


@router.post("/complaints/{complaint_id}/close", response_model=ComplaintView, operation_id="close_complaint",
             responses=_ACTION_ERRORS)
def close_complaint(request: Request, body: Closing, session: SessionDep, actor: ComplaintHandler, today: Today,
                    now: Now, idempotency_key: IdempotencyKey = None, complaint_id: str = _complaint_id()) -> ResponseType:
    """Close an accepted complaint with its result, which the filer reads."""
    return _act(request, session, actor, idempotency_key, body, today, now, handling.close, complaint_id)


@router.get("/admin/complaints", response_model=ComplaintPage, operation_id="list_unrouted_complaints",
            tags=["admin"], responses=problem_responses(*AUTH_ERRORS, 422))
def list_unrouted_complaints(session: SessionDep, actor: Admin, today: Today, limit: Limit = 50,
                             cursor: Cursor = None, status: ComplaintState | None = Query(None),
                             overdue: bool = Query(False)) -> ComplaintPage:
    """The administrators' queue: complaints no market-regulation department was found for (a
    product without a producer, a region without one). Contacts are not shown here: only the
    department that handles a complaint sees them."""
    return _page(session, Handler(None, actor.client_id), today, status, overdue, cursor, limit, contact=False)


@router.post("/admin/complaints/{complaint_id}/route", response_model=ComplaintView, operation_id="route_complaint",
             tags=["admin"], responses=_ACTION_ERRORS)
def route_complaint(request: Request, body: Transfer, session: SessionDep, actor: Admin, today: Today, now: Now,
                    idempotency_key: IdempotencyKey = None, complaint_id: str = _complaint_id()) -> ResponseType:
    """Route a complaint of the queue to a department (a transfer from the administrators)."""
    def produce() -> tuple[int, ComplaintView]:
        routed = handling.transfer(session, complaint_id, body, Handler(None, actor.client_id), now=now)
        return 200, ComplaintView.of(routed, today, contact=False)
    return respond(request, session, actor, idempotency_key, body, produce, now=now)


@router.post("/admin/complaints/{complaint_id}/reject", response_model=ComplaintView,
             operation_id="reject_unrouted_complaint", tags=["admin"], responses=_ACTION_ERRORS)
def reject_unrouted_complaint(request: Request, body: Rejection, session: SessionDep, actor: Admin, today: Today,
                              now: Now, idempotency_key: IdempotencyKey = None,
                              complaint_id: str = _complaint_id()) -> ResponseType:
    """Reject a complaint of the queue with a reason the filer reads (spam, nothing a regulator
    handles): a complaint no department was found for must not wait in the queue for ever."""
    def produce() -> tuple[int, ComplaintView]:
        rejected = handling.reject(session, complaint_id, body, Handler(None, actor.client_id), now=now)
        return 200, ComplaintView.of(rejected, today, contact=False)
    return respond(request, session, actor, idempotency_key, body, produce, now=now)
