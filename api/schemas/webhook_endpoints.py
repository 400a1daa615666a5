"""A department's webhook endpoints, their deliveries, replays and test pings (what the registry
sends them is documented in api.schemas.webhooks)."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.deps import NAIVE_IS_CST
from db.tables import WebhookEndpoint
from service.rules.clock import Moment


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
