"""Department API: list entries, one record with its versions, corrections and withdrawals."""

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from api.deps import Cursor, Limit, Now, ReadSession, SessionDep
from api.idempotent import IdempotencyKey, respond
from api.problems import problem_responses
from api.routes.organizations import AUTH_ERRORS
from api.schemas.records import CorrectionRequest, ListEntryCreate, RecordPage, RecordView, WithdrawalRequest
from api.security import ListWriter, Reader, RecordChanger
from service.organizations import department_view
from service.records import changes, history, publishing
from service.records.fields import Kind

router = APIRouter(prefix="/v1", tags=["records"])

RecordId = Path(max_length=40, pattern=r"^rec_[0-9A-Z]{26}$", examples=["rec_01JD2X3Y4Z5A6B7C8D9E0F1G2H"])


@router.post("/list-entries", status_code=201, response_model=RecordView, operation_id="create_list_entry",
             responses=problem_responses(*AUTH_ERRORS, 404, 409))
def create_list_entry(request: Request, body: ListEntryCreate, session: SessionDep, actor: ListWriter, now: Now,
                      idempotency_key: IdempotencyKey = None) -> Response:
    """Add a red or black list entry. A black listing ends the organization's active red entries."""
    def produce() -> tuple[int, RecordView]:
        published = publishing.publish(session, body.code, body.record_fields(), department_code=actor.department_code,
                                       now=now, visibility=body.visibility, shared_with=body.shared_with)
        return 201, RecordView.of(published)
    return respond(request, session, actor, idempotency_key, body, produce, now=now)


@router.get("/records", response_model=RecordPage, operation_id="list_records",
            responses=problem_responses(*AUTH_ERRORS, 422))
def list_records(actor: Reader, session: ReadSession, limit: Limit = 50, cursor: Cursor = None,
                 kind: Kind | None = Query(None)) -> RecordPage:
    """Every record the department may see, with versions and status changes, in creation order.
    This is how a subscriber starts, or starts again after its feed cursor expired (410 from
    `/v1/events`): read every page, then follow the change feed from the first page's `sync_cursor`."""
    page = department_view.records_page(session, viewer=actor.department_code, cursor=cursor, kind=kind, limit=limit)
    return RecordPage(items=[RecordView.of(h) for h in page.records], next_cursor=page.next_cursor,
                      sync_cursor=page.sync_cursor)


@router.get("/records/{record_id}", response_model=RecordView, operation_id="get_record",
            responses=problem_responses(*AUTH_ERRORS, 404))
def get_record(session: SessionDep, actor: Reader, record_id: str = RecordId) -> RecordView:
    """One record with all its versions and status changes. A record the department may not see
    answers 404, exactly like one that does not exist."""
    return RecordView.of(history.history(session, record_id, viewer=actor.department_code))


@router.post("/records/{record_id}/corrections", response_model=RecordView, operation_id="correct_record",
             responses=problem_responses(*AUTH_ERRORS, 404, 409))
def correct_record(request: Request, body: CorrectionRequest, session: SessionDep, actor: RecordChanger, now: Now,
                   idempotency_key: IdempotencyKey = None, record_id: str = RecordId) -> Response:
    """Correct a record: a new version with the complete corrected fields and a reason; the old
    version stays readable. Only the deciding department may (403 for others), with `lists:write`
    for a list entry and `records:write` for anything else."""
    def produce() -> tuple[int, RecordView]:
        changes.correct(session, record_id, body.fields, department_code=actor.department_code,
                        reason=body.reason, now=now, scopes=actor.scopes)
        return 200, RecordView.of(history.history(session, record_id, viewer=actor.department_code))
    return respond(request, session, actor, idempotency_key, body, produce, now=now)


@router.post("/records/{record_id}/withdrawal", response_model=RecordView, operation_id="withdraw_record",
             responses=problem_responses(*AUTH_ERRORS, 404, 409))
def withdraw_record(request: Request, body: WithdrawalRequest, session: SessionDep, actor: RecordChanger, now: Now,
                    idempotency_key: IdempotencyKey = None, record_id: str = RecordId) -> Response:
    """Withdraw a record from publication, with a reason (e.g. the decision was revoked). The record
    is kept. Only the deciding department may (403 for others), with `lists:write` for a list entry
    and `records:write` for anything else. Withdrawing a black listing reinstates the red entries it ended."""
    def produce() -> tuple[int, RecordView]:
        changes.withdraw(session, record_id, department_code=actor.department_code, reason=body.reason,
                         now=now, scopes=actor.scopes)
        return 200, RecordView.of(history.history(session, record_id, viewer=actor.department_code))
    return respond(request, session, actor, idempotency_key, body, produce, now=now)
