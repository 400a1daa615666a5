"""Department API: objections and credit repair requests on the department's own records, and
the decisions on them (scope ``objections:handle``)."""

from typing import Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from api.deps import Cursor, Limit, Now, SessionDep, Today
from api.idempotent import IdempotencyKey, respond
from api.problems import problem_responses
from api.routes.organizations import AUTH_ERRORS
from api.schemas.decisions import ObjectionPage, ObjectionView, RepairRequestPage, RepairRequestView
from api.security import ObjectionHandler
from service.tickets import decisions
from service.tickets.decisions import ObjectionDecision, RepairDecision

router = APIRouter(prefix="/v1", tags=["decisions"])

ObjectionId = Path(max_length=40, pattern=r"^obj_[0-9A-Z]{26}$")
RepairRequestId = Path(max_length=40, pattern=r"^rep_[0-9A-Z]{26}$")


@router.get("/objections", response_model=ObjectionPage, operation_id="list_objections",
            responses=problem_responses(*AUTH_ERRORS, 422))
def list_objections(session: SessionDep, actor: ObjectionHandler, today: Today, limit: Limit = 50,
                    cursor: Cursor = None,
                    status: Literal["pending", "corrected", "upheld", "withdrawn"] | None = Query(None)) -> ObjectionPage:
    """Objections to the department's records, in filing order; each shows its deadline and
    whether it is overdue."""
    page = decisions.objections(session, department_code=actor.department_code, status=status,
                                       cursor=cursor, limit=limit)
    return ObjectionPage(items=[ObjectionView.of(o, r, today) for o, r in page.items], next_cursor=page.next_cursor)


@router.post("/objections/{objection_id}/decision", response_model=ObjectionView, operation_id="decide_objection",
             responses=problem_responses(*AUTH_ERRORS, 404, 409, 422))
def decide_objection(request: Request, body: ObjectionDecision, session: SessionDep, actor: ObjectionHandler,
                     today: Today, now: Now, idempotency_key: IdempotencyKey = None,
                     objection_id: str = ObjectionId) -> Response:
    """Answer an objection: `corrected` (with the complete corrected `fields`: a new version),
    `upheld` (the record stands) or `withdrawn` (the record is withdrawn). Correcting or
    withdrawing also needs the scope that change needs (records:write; lists:write for a list
    entry). The public marker
    "under objection" clears; the filer sees the outcome with the ticket."""
    def produce() -> tuple[int, ObjectionView]:
        objection, record = decisions.decide_objection(
            session, objection_id, body, department_code=actor.department_code, scopes=actor.scopes, now=now)
        return 200, ObjectionView.of(objection, record, today)
    return respond(request, session, actor, idempotency_key, body, produce, now=now)


@router.get("/repair-requests", response_model=RepairRequestPage, operation_id="list_repair_requests",
            responses=problem_responses(*AUTH_ERRORS, 422))
def list_repair_requests(session: SessionDep, actor: ObjectionHandler, limit: Limit = 50, cursor: Cursor = None,
                         status: Literal["pending", "approved", "rejected"] | None = Query(None)) -> RepairRequestPage:
    """Credit repair requests on the department's records, in filing order."""
    page = decisions.repair_requests(session, department_code=actor.department_code, status=status,
                                            cursor=cursor, limit=limit)
    return RepairRequestPage(items=[RepairRequestView.of(t, r) for t, r in page.items], next_cursor=page.next_cursor)


@router.post("/repair-requests/{request_id}/decision", response_model=RepairRequestView,
             operation_id="decide_repair_request", responses=problem_responses(*AUTH_ERRORS, 404, 409, 422))
def decide_repair_request(request: Request, body: RepairDecision, session: SessionDep, actor: ObjectionHandler,
                          now: Now, idempotency_key: IdempotencyKey = None,
                          request_id: str = RepairRequestId) -> Response:
    """Approve or reject credit repair ("谁认定、谁修复"). Approval (checked against the rules again)
    takes the record off public display and stops sharing it with other departments; the
    department keeps its whole history."""
    def produce() -> tuple[int, RepairRequestView]:
        repair, record = decisions.decide_repair(
            session, request_id, body, department_code=actor.department_code, now=now)
        return 200, RepairRequestView.of(repair, record)
    return respond(request, session, actor, idempotency_key, body, produce, now=now)
