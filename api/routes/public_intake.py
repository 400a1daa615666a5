"""Public API: objections to published records and credit repair requests."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Header, Path, Response
from sqlmodel import Session

from api.deps import Now, SessionDep, Today
from api.problems import problem_responses
from api.schemas.public import Filed, TicketStatus
from service.tickets import intake
from service.tickets.intake import ObjectionFiling, RepairFiling

router = APIRouter(prefix="/v1/public", tags=["public"])

NO_STORE = "no-store"
TicketSecret = Annotated[str, Header(alias="Ticket-Secret", min_length=10, max_length=100,
                                     description="The secret given when the ticket was filed")]


@router.post("/objections", status_code=201, response_model=Filed, operation_id="file_objection",
             responses=problem_responses(409, 422, 429))
def file_objection(response: Response, body: ObjectionFiling, session: SessionDep, now: Now) -> intake.Filed:
    """Object to a published record (异议). The record shows as "under objection" until the
    deciding department answers (within 20 days by default). Keep the ticket and the secret: both
    are needed to follow the objection, and the secret is shown only now. One objection per record
    and contact may be pending (409 names it, in `existing_id`), and a record takes at most the
    rule set's `objection_pending_cap` pending objections (409)."""
    response.headers["Cache-Control"] = NO_STORE
    return intake.file_objection(session, body, now=now)


@router.post("/repair-requests", status_code=201, response_model=Filed, operation_id="request_repair",
             responses=problem_responses(422, 429))
def request_repair(response: Response, body: RepairFiling, session: SessionDep, now: Now) -> intake.Filed:
    """Apply for credit repair (信用修复) of a violation or black list entry, once its minimum
    publicity has been served, with a statement and a public credit commitment."""
    response.headers["Cache-Control"] = NO_STORE
    return intake.request_repair(session, body, now=now)


def _status(response: Response, session: Session, ticket: str, secret: str, today: date) -> intake.TicketStatus:
    response.headers["Cache-Control"] = NO_STORE
    return intake.ticket_status(session, ticket, secret, today=today)


@router.get("/objections/{ticket}", response_model=TicketStatus, operation_id="get_objection",
            responses=problem_responses(404, 422, 429))
def get_objection(response: Response, session: SessionDep, today: Today, secret: TicketSecret,
                  ticket: str = Path(max_length=40, pattern=r"^obj_[0-9A-Z]{26}$")) -> intake.TicketStatus:
    """The state of an objection, for whoever holds its ticket and secret (header Ticket-Secret)."""
    return _status(response, session, ticket, secret, today)


@router.get("/repair-requests/{ticket}", response_model=TicketStatus, operation_id="get_repair_request",
            responses=problem_responses(404, 422, 429))
def get_repair_request(response: Response, session: SessionDep, today: Today, secret: TicketSecret,
                       ticket: str = Path(max_length=40, pattern=r"^rep_[0-9A-Z]{26}$")) -> intake.TicketStatus:
    """The state of a repair request, for whoever holds its ticket and secret (header Ticket-Secret)."""
    return _status(response, session, ticket, secret, today)
