"""Department API: webhook endpoints (scope `webhooks:manage`; a department sees only its own)."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from api.deps import Limit, Now, ReadSession, SessionDep, SettingsDep
from api.problems import problem_responses
from api.routes.organizations import AUTH_ERRORS
from api.schemas.webhook_endpoints import (
    AttemptView,
    DeliveryView,
    EndpointCreated,
    EndpointView,
    PingResult,
    ReplayQueued,
    ReplayRequest,
    SecretRotated,
)
from api.security import WebhookManager
from api.settings import Settings
from service.sync.webhooks import endpoints
from service.sync.webhooks.endpoints import EndpointCreate, EndpointUpdate

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

EndpointId = Annotated[str, Path(max_length=40, pattern=r"^whe_[0-9A-Z]{26}$")]


def _allowed(settings: Settings) -> frozenset[str]:
    return frozenset(settings.webhook_allowed_hosts)


@router.post("/endpoints", status_code=201, response_model=EndpointCreated, operation_id="create_webhook_endpoint",
             responses=problem_responses(*AUTH_ERRORS))
def create_webhook_endpoint(response: Response, body: EndpointCreate, session: SessionDep, actor: WebhookManager,
                            now: Now, settings: SettingsDep) -> EndpointCreated:
    """Register an endpoint. Public https/http addresses only (no loopback, private or metadata
    addresses). The signing secret is in this response only."""
    response.headers["Cache-Control"] = "no-store"
    created = endpoints.create(session, actor.department_code, body, now=now, allowed_hosts=_allowed(settings))
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
def update_webhook_endpoint(body: EndpointUpdate, session: SessionDep, actor: WebhookManager, now: Now,
                            settings: SettingsDep, endpoint_id: EndpointId) -> EndpointView:
    """Change the URL, the event types, or enable / disable the endpoint."""
    return EndpointView.of(endpoints.update(session, endpoint_id, body, owner=actor.department_code, now=now,
                                           allowed_hosts=_allowed(settings)))


@router.delete("/endpoints/{endpoint_id}", response_model=EndpointView, operation_id="delete_webhook_endpoint",
               responses=problem_responses(*AUTH_ERRORS, 404))
def delete_webhook_endpoint(session: SessionDep, actor: WebhookManager, now: Now, settings: SettingsDep,
                            endpoint_id: EndpointId) -> EndpointView:
    """Stop deliveries to the endpoint. It is disabled, not erased: its delivery log stays readable."""
    return EndpointView.of(endpoints.update(session, endpoint_id, EndpointUpdate(status="disabled"),
                                           owner=actor.department_code, now=now, allowed_hosts=_allowed(settings)))


@router.post("/endpoints/{endpoint_id}/secret/rotate", response_model=SecretRotated,
             operation_id="rotate_webhook_secret", responses=problem_responses(*AUTH_ERRORS, 404))
def rotate_webhook_secret(response: Response, session: SessionDep, actor: WebhookManager, now: Now,
                          endpoint_id: EndpointId,
                          grace_seconds: int = Query(86400, ge=0, le=endpoints.MAX_GRACE_SECONDS)) -> SecretRotated:
    """A new signing secret. For the grace period every delivery carries both signatures."""
    response.headers["Cache-Control"] = "no-store"
    return SecretRotated(secret=endpoints.rotate_secret(session, endpoint_id, owner=actor.department_code,
                                                       grace_seconds=grace_seconds, now=now))


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


@router.post("/deliveries/{delivery_id}/resend", status_code=202, response_model=DeliveryView,
             operation_id="resend_webhook_delivery", responses=problem_responses(*AUTH_ERRORS, 404))
def resend_webhook_delivery(session: SessionDep, actor: WebhookManager, now: Now,
                            delivery_id: Annotated[str, Path(max_length=40, pattern=r"^whd_[0-9A-Z]{26}$")]
                            ) -> DeliveryView:
    """Send the delivery's event once more (one attempt; the same webhook-id, a fresh signature)."""
    again = endpoints.resend(session, delivery_id, owner=actor.department_code, now=now)
    return DeliveryView(id=again.id, event_seq=again.event_seq, status=again.status, attempts=0,
                        next_attempt_at=again.next_attempt_at, attempt_log=[])


@router.post("/endpoints/{endpoint_id}/replay", status_code=202, response_model=ReplayQueued,
             operation_id="replay_webhook_endpoint", responses=problem_responses(*AUTH_ERRORS, 404))
def replay_webhook_endpoint(body: ReplayRequest, session: SessionDep, actor: WebhookManager, now: Now,
                            endpoint_id: EndpointId) -> ReplayQueued:
    """Queue again what the endpoint missed in a window (at most 10,000 events), e.g. after an outage
    or while it was disabled."""
    return ReplayQueued(queued=endpoints.replay(session, endpoint_id, owner=actor.department_code, since=body.since,
                                               until=body.until or now, mode=body.mode, now=now))


@router.post("/endpoints/{endpoint_id}/test", response_model=PingResult, operation_id="ping_webhook_endpoint",
             responses=problem_responses(*AUTH_ERRORS, 404))
def ping_webhook_endpoint(actor: WebhookManager, session: ReadSession, now: Now, settings: SettingsDep,
                          endpoint_id: EndpointId) -> PingResult:
    """Send a signed `webhook.test` message now and say what the endpoint answered."""
    outcome = endpoints.ping(session, endpoint_id, owner=actor.department_code, allowed_hosts=_allowed(settings),
                             now=now)
    return PingResult(status_code=outcome.status_code, duration_ms=outcome.duration_ms, error=outcome.error)
