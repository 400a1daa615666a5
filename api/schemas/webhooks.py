"""The webhooks the registry sends, for the OpenAPI document's ``webhooks`` (OpenAPI 3.1): one per
event type of service.sync.event_types, with its payload, its signature headers and the answers it
expects, and the ``webhook.test`` message. Documentation only: the registry receives none of them.
"""

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Response
from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.json_schema import SkipJsonSchema

from api.schemas.complaints import (
    ComplaintAcceptedData,
    ComplaintDecidedData,
    ComplaintFiledData,
    ComplaintTransferredData,
)
from service.organizations.master_data import OrganizationStatus
from service.records.fields import ListName, Visibility
from service.sync import event_types as types
from service.sync.webhooks.delivery import RETRY_SCHEDULE, THROTTLED, DeliveryPolicy
from service.sync.webhooks.signing import TOLERANCE_SECONDS
from service.tickets.decisions import ObjectionOutcome, RepairOutcome

RecordId = Annotated[str, Field(pattern=r"^rec_[0-9A-Z]{26}$", examples=["rec_01JD2X3Y4Z5A6B7C8D9E0F1G2H"])]
Uscc = Annotated[str, Field(pattern=r"^[0-9A-Z]{18}$", examples=["914403001922038216"])]
DepartmentCode = Annotated[str, Field(examples=["SZAMR"])]
SupervisionClass = Literal["A", "B", "C", "D"]
SupervisionReason = Literal["black_list", "red_list", "grade", "unrated"]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrganizationUpdatedData(_Data):
    code: Uscc = Field(description="The organization's unified social credit code")
    created: bool = Field(description="true when this change registered the organization")
    status: OrganizationStatus


class _RecordData(_Data):
    """What every event about a record carries: who decided what about whom, never its content
    (read GET /v1/records/{record_id} for that)."""

    record_id: RecordId
    organization: Uscc
    department: DepartmentCode = Field(description="The deciding department, the record's owner")
    version: int = Field(ge=1, description="The record's version after the change")
    visibility: Visibility


class _ListEntryData(_RecordData):
    list: ListName


class ObjectionFiledData(_Data):
    objection_id: str = Field(pattern=r"^obj_[0-9A-Z]{26}$")
    record_id: RecordId
    department: DepartmentCode = Field(description="The department that must answer: the record's owner")
    deadline: date = Field(description="The last day for the answer")


class ObjectionResolvedData(_Data):
    objection_id: str = Field(pattern=r"^obj_[0-9A-Z]{26}$")
    record_id: RecordId
    outcome: ObjectionOutcome


class RepairRequestedData(_Data):
    repair_request_id: str = Field(pattern=r"^rep_[0-9A-Z]{26}$")
    record_id: RecordId
    department: DepartmentCode = Field(description="The department that must decide: the record's owner")


class RepairDecidedData(_Data):
    repair_request_id: str = Field(pattern=r"^rep_[0-9A-Z]{26}$")
    record_id: RecordId
    outcome: RepairOutcome


class SupervisionChangedData(_Data):
    organization: Uscc
    previous_class: SupervisionClass = Field(description="The class before (an organization never seen is unrated)")
    supervision_class: SupervisionClass = Field(description="A trusted, B ordinary, C watched, D strictly supervised")
    reason: SupervisionReason = Field(description="What decided the new class")
    record_id: RecordId | None = Field(description="The record that decided it; null when unrated")


class MeasureAppliedData(_Data):
    application_id: str = Field(pattern=r"^mea_[0-9A-Z]{26}$")
    organization: Uscc
    measure: str = Field(description="The measure's code in the catalogue")
    catalogue_version: int
    department: DepartmentCode = Field(description="The department that applied it")
    decision_no: str
    decided_on: date
    record_id: RecordId = Field(description="The triggering record, one of the receiving department's own")


class WebhookTestData(_Data):
    endpoint_id: str = Field(pattern=r"^whe_[0-9A-Z]{26}$")
    message: str


def _reason(description: str) -> Any:
    return str, Field(description=description)


# Keys a list entry's event has only sometimes: absent, never null.
_Reinstated = Literal["reinstated"] | SkipJsonSchema[None]
_CausedBy = RecordId | SkipJsonSchema[None]
_RemovedBecause = Literal["expired", "repaired", "withdrawn", "superseded_by_black_list"]

_BY_DEPARTMENT = "Why, as the department gave it; upon an objection it reads `objection <objection id>: <reason>`"


def _fixed(value: str) -> Any:
    """The type whose only value is ``value``, known when the models are made (one per event type)."""
    return Literal[value]


def _record_data(event_type: str, kind: str, **fields: Any) -> type[BaseModel]:
    base = _ListEntryData if kind == "list_entry" else _RecordData
    return create_model(_name(event_type) + "Data", __base__=base, __doc__=_RecordData.__doc__,
                        kind=(_fixed(kind), Field(description="The record's kind")), **fields)


def _name(event_type: str) -> str:
    """``list_entry.added`` -> ``ListEntryAdded``."""
    return "".join(word.title() for word in event_type.replace(".", "_").split("_"))


# Per event type: the summary in the document and its data, as the emitters write it.
WEBHOOKS: dict[str, tuple[str, type[BaseModel]]] = {
    types.ORGANIZATION_UPDATED: ("An organization was registered or its master data changed",
                                 OrganizationUpdatedData),
    types.RATING_PUBLISHED: ("A rating was published", _record_data(types.RATING_PUBLISHED, "rating")),
    types.RATING_CORRECTED: ("A rating was corrected: a new version", _record_data(
        types.RATING_CORRECTED, "rating", reason=_reason(_BY_DEPARTMENT))),
    types.RATING_WITHDRAWN: ("A rating was withdrawn", _record_data(
        types.RATING_WITHDRAWN, "rating", reason=_reason(_BY_DEPARTMENT))),
    types.RATING_EXPIRED: ("A rating's validity ended", _record_data(
        types.RATING_EXPIRED, "rating", reason=_reason("`the rating's validity ended on <date>`"))),
    types.VIOLATION_PUBLISHED: ("A violation (administrative penalty) was published",
                                _record_data(types.VIOLATION_PUBLISHED, "violation")),
    types.VIOLATION_CORRECTED: ("A violation was corrected: a new version", _record_data(
        types.VIOLATION_CORRECTED, "violation", reason=_reason(_BY_DEPARTMENT))),
    types.VIOLATION_WITHDRAWN: ("A violation was withdrawn", _record_data(
        types.VIOLATION_WITHDRAWN, "violation", reason=_reason(_BY_DEPARTMENT))),
    types.VIOLATION_EXPIRED: ("A violation's maximum publicity window ended", _record_data(
        types.VIOLATION_EXPIRED, "violation", reason=_reason("`the maximum publicity window ended on <date>`"))),
    types.VIOLATION_REPAIRED: ("A violation was repaired: credit repair approved, off public display and no longer "
                               "shared with other departments (drop your copy)", _record_data(
        types.VIOLATION_REPAIRED, "violation",
        reason=_reason("`credit repair <repair request id>: <the department's reason>`"))),
    types.DISCLOSURE_PUBLISHED: ("A disclosure was published",
                                 _record_data(types.DISCLOSURE_PUBLISHED, "disclosure")),
    types.DISCLOSURE_CORRECTED: ("A disclosure was corrected: a new version", _record_data(
        types.DISCLOSURE_CORRECTED, "disclosure", reason=_reason(_BY_DEPARTMENT))),
    types.DISCLOSURE_WITHDRAWN: ("A disclosure was withdrawn", _record_data(
        types.DISCLOSURE_WITHDRAWN, "disclosure", reason=_reason(_BY_DEPARTMENT))),
    types.LIST_ENTRY_ADDED: ("An organization was put on the red or black list, or a red entry a black listing "
                             "had ended is in force again", _record_data(
        types.LIST_ENTRY_ADDED, "list_entry",
        reason=(_Reinstated, Field(
            None, description="Only on a red entry in force again: the black listing that ended it was withdrawn")),
        caused_by=(_CausedBy, Field(None, description="With `reinstated`: that black entry")))),
    types.LIST_ENTRY_CORRECTED: ("A list entry was corrected: a new version", _record_data(
        types.LIST_ENTRY_CORRECTED, "list_entry", reason=_reason(_BY_DEPARTMENT))),
    types.LIST_ENTRY_REMOVED: ("A list entry ended", _record_data(
        types.LIST_ENTRY_REMOVED, "list_entry",
        reason=(_RemovedBecause, Field(
            description="`expired`: its term ended; `repaired`: credit repair approved; `withdrawn`: by its "
                        "department; `superseded_by_black_list`: a public black listing of the organization "
                        "ended this red entry")),
        caused_by=(_CausedBy, Field(
            None, description="With `superseded_by_black_list`: the black entry that ended it")))),
    types.OBJECTION_FILED: ("Someone objected to one of the department's records", ObjectionFiledData),
    types.OBJECTION_RESOLVED: ("The department answered an objection", ObjectionResolvedData),
    types.REPAIR_REQUESTED: ("An organization applied for credit repair of one of the department's records",
                             RepairRequestedData),
    types.REPAIR_DECIDED: ("The department decided a credit repair request", RepairDecidedData),
    types.SUPERVISION_CHANGED: ("An organization's supervision class (分类监管), as its public records decide it, "
                                "changed", SupervisionChangedData),
    types.MEASURE_APPLIED: ("Another department reported applying a measure (反馈) triggered by one of the "
                            "department's records", MeasureAppliedData),
    types.INSPECTION_PUBLISHED: ("A spot-check result (监督抽查) was published",
                                 _record_data(types.INSPECTION_PUBLISHED, "inspection")),
    types.INSPECTION_CORRECTED: ("A spot-check result was corrected: a new version", _record_data(
        types.INSPECTION_CORRECTED, "inspection", reason=_reason(_BY_DEPARTMENT))),
    types.INSPECTION_WITHDRAWN: ("A spot-check result was withdrawn", _record_data(
        types.INSPECTION_WITHDRAWN, "inspection", reason=_reason(_BY_DEPARTMENT))),
    types.COMPLAINT_FILED: ("A complaint (投诉举报) was filed and routed to the department", ComplaintFiledData),
    types.COMPLAINT_ACCEPTED: ("The department accepted a complaint", ComplaintAcceptedData),
    types.COMPLAINT_REJECTED: ("The department refused a complaint, with a reason", ComplaintDecidedData),
    types.COMPLAINT_TRANSFERRED: ("A complaint was transferred (or routed by the administrators) to the department",
                                  ComplaintTransferredData),
    types.COMPLAINT_CLOSED: ("The department closed a complaint with its result", ComplaintDecidedData),
}


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^evt_[0-9A-Z]{26}$", description="The event's id, also sent as `webhook-id`: the "
                    "same on every attempt, resend and replay, so deduplicate on it")
    timestamp: datetime = Field(description="When the change happened (UTC); `webhook-timestamp` is when this "
                                "attempt was sent")
    seq: int = Field(ge=1, description="The event's place in the change feed, increasing in commit order. After "
                     "an outage, GET /v1/events?after=<the last seq processed> gives what was missed")


class WebhookTestEvent(BaseModel):
    """Sent by POST /v1/webhooks/endpoints/{id}/test: not an event (no seq, not in the feed)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^evt_test_[0-9A-Z]{26}$", description="Also sent as `webhook-id`")
    type: Literal["webhook.test"]
    timestamp: datetime = Field(description="When the test was asked for (UTC)")
    data: WebhookTestData


def _envelope(event_type: str, summary: str, data: type[BaseModel]) -> type[BaseModel]:
    return create_model(_name(event_type) + "Event", __base__=_Envelope, __doc__=summary + ".",
                        type=(_fixed(event_type), ...), data=(data, ...))


# The body a delivery of each type carries: the change feed's envelope with its type fixed.
PAYLOADS: dict[str, type[BaseModel]] = {
    **{event_type: _envelope(event_type, summary, data) for event_type, (summary, data) in WEBHOOKS.items()},
    types.WEBHOOK_TEST: WebhookTestEvent,
}


WebhookId = Annotated[str, Header(pattern=r"^evt_(test_)?[0-9A-Z]{26}$", description=(
    "The event's id (the body's `id`): the same on every attempt, resend and replay. Deduplicate on it."))]
WebhookTimestamp = Annotated[int, Header(description=(
    "When this attempt was sent, in Unix seconds (a retry has a new one; the body's `timestamp` is when the change "
    f"happened). Refuse a message more than {TOLERANCE_SECONDS // 60} minutes away from your clock: it is a "
    "replay."))]
WebhookSignature = Annotated[str, Header(pattern=r"^v1,[A-Za-z0-9+/]{43}=( v1,[A-Za-z0-9+/]{43}=)*$", description=(
    "`v1,<base64 HMAC-SHA256>`, one per valid secret, space-separated, newest first (two while a rotated secret "
    "is in its grace period). The message is genuine if one of them equals base64(HMAC-SHA256(key, "
    "`<webhook-id>.<webhook-timestamp>.<raw body>`)), the key being the base64-decoded part of the endpoint's "
    "secret after `whsec_`. Compare in constant time; skip versions other than `v1`."))]

VERIFYING = f"""\
A POST of the JSON body below, signed as Standard Webhooks specifies (any of its libraries verifies
it, e.g. `standardwebhooks` on PyPI):

1. Keep the raw body bytes as received: the signature is over them, not over re-serialized JSON.
2. Compute base64(HMAC-SHA256(key, `<webhook-id>.<webhook-timestamp>.<raw body>`)), the key being the
   base64-decoded part of the endpoint's secret after `whsec_`.
3. Accept the message if that equals one of the `v1,` signatures in `webhook-signature` (compared in
   constant time) and `webhook-timestamp` is within {TOLERANCE_SECONDS // 60} minutes of your clock.
4. Deduplicate on `webhook-id`: a delivery may arrive more than once.
"""
OF_EVENTS = """
Payloads are thin: ids, versions, kinds and reasons, never a record's content. The body is byte for
byte the envelope the change feed (GET /v1/events) serves. A department receives only events about
records it may see, and the objection and credit repair events of its own records only; complaint
events go to the department handling the complaint alone.
"""


def _span(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:g} s"
    return f"{seconds / 60:g} min" if seconds < 3600 else f"{seconds / 3600:g} h"


def _either(items: list[Any], conjunction: str = "or") -> str:
    return f"{', '.join(map(str, items[:-1]))} {conjunction} {items[-1]}"


_POLICY = DeliveryPolicy()
RETRIED = (
    f"Not delivered: any other status, a redirect (never followed), or no whole answer within "
    f"{_span(_POLICY.attempt_seconds)} (unless the registry is configured otherwise). The delivery is tried again "
    f"{_either([_span(s) for s in RETRY_SCHEDULE], 'and')} after each failed attempt in turn "
    f"(each ±{_POLICY.jitter:.0%}; at least a minute after a timeout or a {_either(sorted(THROTTLED))} answer, "
    f"and up to twice as long when `Retry-After` asks for more): {len(RETRY_SCHEDULE) + 1} attempts over about "
    f"{round(sum(RETRY_SCHEDULE) / 3600)} hours. Then it is kept as failed, for "
    "POST /v1/webhooks/deliveries/{id}/resend or POST /v1/webhooks/endpoints/{id}/replay (each one attempt)."
)
RESPONSES: dict[int | str, dict[str, Any]] = {
    410: {"description": "Gone: the endpoint is disabled (`disabled_reason` `gone_410`) and gets nothing more until "
                         "PATCH /v1/webhooks/endpoints/{id} enables it again; the delivery is not retried. (To a "
                         "resend or replay, 410 only fails that attempt.)"},
    "default": {"description": RETRIED},
}
TEST_RESPONSES: dict[int | str, dict[str, Any]] = {
    "default": {"description": "Anything else is reported back to the caller of the test as it came; never retried."},
}


def _receiver(body: type[BaseModel]) -> Callable[..., None]:
    # FastAPI reads the body's model from the annotation: one receiver per event type.
    def receive(payload: body,  # type: ignore[valid-type]  # a model made per event type, not a static class
                webhook_id: WebhookId, webhook_timestamp: WebhookTimestamp,
                webhook_signature: WebhookSignature) -> None:
        pass

    return receive


def document(webhooks: APIRouter) -> None:
    """Add every webhook to ``webhooks`` (the app's ``app.webhooks``)."""
    for event_type, body in PAYLOADS.items():
        test = event_type == types.WEBHOOK_TEST
        summary = "A test message, sent on request" if test else WEBHOOKS[event_type][0]
        operation = event_type.replace(".", "_")
        webhooks.add_api_route(
            event_type, _receiver(body), methods=["POST"], name=operation, operation_id=operation,
            summary=summary, description=VERIFYING if test else VERIFYING + OF_EVENTS, status_code=200,
            response_class=Response,
            response_description="Delivered: any 2xx answer; its body is ignored",
            responses=TEST_RESPONSES if test else RESPONSES)
