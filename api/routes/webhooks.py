"""Department API: webhook endpoints (scope `webhooks:manage`; a department sees only its own)."""

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import NAIVE_IS_CST, Limit, SessionDep
from api.problems import problem_responses
from api.routes.organizations import AUTH_ERRORS
from api.security import WebhookManager
from db.session import read_session
from db.tables import WebhookEndpoint
from service.rules.clock import Moment
from service.sync.webhooks import delivery, endpoints
from service.sync.webhooks.endpoints import EndpointCreate, EndpointUpdate

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

EndpointId = Annotated[str, Path(max_length=40, pattern=r"^whe_[0-9A-Z]{26}$")]


class EndpointView(BaseModel):
    id: str
    url: str
    description: str | None
    event_types: list[str] | None
    status: str
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> "EndpointView":
        return cls.model_validate(endpoint, from_attributes=True)


class EndpointCreated(EndpointView):
    secret: str = Field(description="whsec_... signing secret; shown only now")


class SecretRotated(BaseModel):
    secret: str = Field(description="The new signing secret; the old one also signs until the grace period ends")


class AttemptView(BaseModel):
    attempt_no: int
    started_at: datetime
    duration_ms: int
    status_code: int | None
    error: str | None


class DeliveryView(BaseModel):
    id: str
    event_seq: int
    status: str
    attempts: int
    next_attempt_at: datetime
    attempt_log: list[AttemptView]
    superseded_by: str | None = Field(
        default=None, description="For a dead letter (failed): the later delivery of the same event to this endpoint "
                                  "that succeeded (a resend or replay); null while the event has not been delivered")


def _allowed(request: Request) -> frozenset[str]:
    return frozenset(request.app.state.settings.webhook_allowed_hosts)


@router.post("/endpoints", status_code=201, response_model=EndpointCreated, operation_id="create_webhook_endpoint",
             responses=problem_responses(*AUTH_ERRORS))
def create_webhook_endpoint(request: Request, response: Response, body: EndpointCreate, session: SessionDep,
                            actor: WebhookManager) -> EndpointCreated:
    """Register an endpoint. Public https/http addresses only (no loopback, private or metadata
    addresses). The signing secret is in this response only."""
    response.headers["Cache-Control"] = "no-store"
    created = endpoints.create(session, actor.department_code, body, now=request.app.state.clock.now(),
                              allowed_hosts=_allowed(request))
    return EndpointCreated(**EndpointView.of(created.endpoint).model_dump(), secret=created.secret)


@router.get("/endpoints", response_model=list[EndpointView], operation_id="list_webhook_endpoints",
            responses=problem_responses(*AUTH_ERRORS))
def list_webhook_endpoints(session: SessionDep, actor: WebhookManager) -> list[EndpointView]:
    """The department's endpoints."""
    return [EndpointView.of(e) for e in endpoints.of_department(session, actor.department_code)]


@router.get("/endpoints/{endpoint_id}", response_model=EndpointView, operation_id="get_webhook_endpoint",
            responses=problem_responses(*AUTH_ERRORS, 404))
def get_webhook_endpoint(session: SessionDep, actor: WebhookManager, endpoint_id: EndpointId) -> EndpointView:
    """One endpoint of the department (another department's answers 404)."""
    return EndpointView.of(endpoints.get(session, endpoint_id, owner=actor.department_code))


@router.patch("/endpoints/{endpoint_id}", response_model=EndpointView, operation_id="update_webhook_endpoint",
              responses=problem_responses(*AUTH_ERRORS, 404))
def update_webhook_endpoint(request: Request, body: EndpointUpdate, session: SessionDep, actor: WebhookManager,
                            endpoint_id: EndpointId) -> EndpointView:
    """Change the URL, the event types, or enable / disable the endpoint."""
    return EndpointView.of(endpoints.update(session, endpoint_id, body, owner=actor.department_code,
                                           now=request.app.state.clock.now(), allowed_hosts=_allowed(request)))


@router.delete("/endpoints/{endpoint_id}", response_model=EndpointView, operation_id="delete_webhook_endpoint",
               responses=problem_responses(*AUTH_ERRORS, 404))
def delete_webhook_endpoint(request: Request, session: SessionDep, actor: WebhookManager,
                            endpoint_id: EndpointId) -> EndpointView:
    """Stop deliveries to the endpoint. It is disabled, not erased: its delivery log stays readable."""
    return EndpointView.of(endpoints.update(session, endpoint_id, EndpointUpdate(status="disabled"),
                                           owner=actor.department_code, now=request.app.state.clock.now(),
                                           allowed_hosts=_allowed(request)))


@router.post("/endpoints/{endpoint_id}/secret/rotate", response_model=SecretRotated,
             operation_id="rotate_webhook_secret", responses=problem_responses(*AUTH_ERRORS, 404))
def rotate_webhook_secret(request: Request, response: Response, session: SessionDep, actor: WebhookManager,
                          endpoint_id: EndpointId,
                          grace_seconds: int = Query(86400, ge=0, le=endpoints.MAX_GRACE_SECONDS)) -> SecretRotated:
    """A new signing secret. For the grace period every delivery carries both signatures."""
    response.headers["Cache-Control"] = "no-store"
    return SecretRotated(secret=endpoints.rotate_secret(session, endpoint_id, owner=actor.department_code,
                                                       grace_seconds=grace_seconds, now=request.app.state.clock.now()))


@router.get("/endpoints/{endpoint_id}/deliveries", response_model=list[DeliveryView],
            operation_id="list_webhook_deliveries", responses=problem_responses(*AUTH_ERRORS, 404))
def list_webhook_deliveries(session: SessionDep, actor: WebhookManager, endpoint_id: EndpointId,
                            status: str | None = Query(None, pattern="^(pending|sending|succeeded|failed)$"),
                            limit: Limit = 50) -> list[DeliveryView]:
    """The newest deliveries with every attempt's status, duration and error (failed = dead letter)."""
    return [DeliveryView(id=d.id, event_seq=d.event_seq, status=d.status, attempts=d.attempts,
                         next_attempt_at=d.next_attempt_at,
                         attempt_log=[AttemptView.model_validate(a, from_attributes=True) for a in attempts],
                         superseded_by=superseded_by)
            for d, attempts, superseded_by in endpoints.deliveries(session, endpoint_id, owner=actor.department_code,
                                                                  status=status, limit=limit)]


class ReplayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: Moment = Field(description=f"Events at or after this moment; {NAIVE_IS_CST}")
    until: Moment | None = Field(default=None, description=f"Default: now; {NAIVE_IS_CST}")
    mode: Literal["failed", "missing"] = Field(
        default="missing", description="failed: events whose delivery failed; missing: every event not delivered")


class ReplayQueued(BaseModel):
    queued: int = Field(description="Events queued for one attempt each, in feed order")


class PingResult(BaseModel):
    status_code: int | None
    duration_ms: int
    error: str | None


@router.post("/deliveries/{delivery_id}/resend", status_code=202, response_model=DeliveryView,
             operation_id="resend_webhook_delivery", responses=problem_responses(*AUTH_ERRORS, 404))
def resend_webhook_delivery(request: Request, session: SessionDep, actor: WebhookManager,
                            delivery_id: Annotated[str, Path(max_length=40, pattern=r"^whd_[0-9A-Z]{26}$")]
                            ) -> DeliveryView:
    """Send the delivery's event once more (one attempt; the same webhook-id, a fresh signature)."""
    again = endpoints.resend(session, delivery_id, owner=actor.department_code, now=request.app.state.clock.now())
    return DeliveryView(id=again.id, event_seq=again.event_seq, status=again.status, attempts=0,
                        next_attempt_at=again.next_attempt_at, attempt_log=[])


@router.post("/endpoints/{endpoint_id}/replay", status_code=202, response_model=ReplayQueued,
             operation_id="replay_webhook_endpoint", responses=problem_responses(*AUTH_ERRORS, 404))
def replay_webhook_endpoint(request: Request, body: ReplayRequest, session: SessionDep, actor: WebhookManager,
                            endpoint_id: EndpointId) -> ReplayQueued:
    """Queue again what the endpoint missed in a window (at most 10,000 events), e.g. after an outage
    or while it was disabled."""
    now = request.app.state.clock.now()
    return ReplayQueued(queued=endpoints.replay(session, endpoint_id, owner=actor.department_code, since=body.since,
                                               until=body.until or now, mode=body.mode, now=now))


@router.post("/endpoints/{endpoint_id}/test", response_model=PingResult, operation_id="ping_webhook_endpoint",
             responses=problem_responses(*AUTH_ERRORS, 404))
def ping_webhook_endpoint(request: Request, actor: WebhookManager, endpoint_id: EndpointId) -> PingResult:
    """Send a signed `webhook.test` message now and say what the endpoint answered."""
    now = request.app.state.clock.now()
    # A short read, then the network call outside any transaction.
    with read_session(request.app.state.database) as session:
        endpoint, secrets = endpoints.signing_secrets(session, endpoint_id, owner=actor.department_code, now=now)
    policy = delivery.DeliveryPolicy(allowed_hosts=_allowed(request), attempt_seconds=10.0)
    with delivery.http_client(policy) as client:
        outcome = delivery.test_ping(client, endpoint_id=endpoint.id, url=endpoint.url, secrets=secrets,
                                             policy=policy, now=now)
    return PingResult(status_code=outcome.status_code, duration_ms=outcome.duration_ms, error=outcome.error)
