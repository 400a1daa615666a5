"""The events the registry emits, and which of them a subscriber asked for.

Every event type is named here once: the emitters take their types from here, ``events.emit``
refuses any other, and each one is documented as a webhook in the OpenAPI document
(api/schemas/webhooks.py; a test fails when one is missing), so a subscriber learns of a new
event from the document, not from a surprise delivery.
"""

from collections.abc import Mapping, Sequence

ORGANIZATION_UPDATED = "organization.updated"
RATING_PUBLISHED = "rating.published"
RATING_CORRECTED = "rating.corrected"
RATING_WITHDRAWN = "rating.withdrawn"
RATING_EXPIRED = "rating.expired"
VIOLATION_PUBLISHED = "violation.published"
VIOLATION_CORRECTED = "violation.corrected"
VIOLATION_WITHDRAWN = "violation.withdrawn"
VIOLATION_EXPIRED = "violation.expired"
VIOLATION_REPAIRED = "violation.repaired"
DISCLOSURE_PUBLISHED = "disclosure.published"
DISCLOSURE_CORRECTED = "disclosure.corrected"
DISCLOSURE_WITHDRAWN = "disclosure.withdrawn"
LIST_ENTRY_ADDED = "list_entry.added"
LIST_ENTRY_CORRECTED = "list_entry.corrected"
LIST_ENTRY_REMOVED = "list_entry.removed"
OBJECTION_FILED = "objection.filed"
OBJECTION_RESOLVED = "objection.resolved"
REPAIR_REQUESTED = "repair.requested"
REPAIR_DECIDED = "repair.decided"
SUPERVISION_CHANGED = "organization.supervision_changed"
MEASURE_APPLIED = "measure.applied"
INSPECTION_PUBLISHED = "inspection.published"
INSPECTION_CORRECTED = "inspection.corrected"
INSPECTION_WITHDRAWN = "inspection.withdrawn"
# Complaints (投诉举报): to the handling department alone; the event's record_id is the complaint's id.
COMPLAINT_FILED = "complaint.filed"
COMPLAINT_ACCEPTED = "complaint.accepted"
COMPLAINT_REJECTED = "complaint.rejected"
COMPLAINT_TRANSFERRED = "complaint.transferred"
COMPLAINT_CLOSED = "complaint.closed"

EVENT_TYPES: tuple[str, ...] = (
    ORGANIZATION_UPDATED,
    RATING_PUBLISHED, RATING_CORRECTED, RATING_WITHDRAWN, RATING_EXPIRED,
    VIOLATION_PUBLISHED, VIOLATION_CORRECTED, VIOLATION_WITHDRAWN, VIOLATION_EXPIRED, VIOLATION_REPAIRED,
    DISCLOSURE_PUBLISHED, DISCLOSURE_CORRECTED, DISCLOSURE_WITHDRAWN,
    LIST_ENTRY_ADDED, LIST_ENTRY_CORRECTED, LIST_ENTRY_REMOVED,
    OBJECTION_FILED, OBJECTION_RESOLVED,
    REPAIR_REQUESTED, REPAIR_DECIDED,
    SUPERVISION_CHANGED, MEASURE_APPLIED,
    INSPECTION_PUBLISHED, INSPECTION_CORRECTED, INSPECTION_WITHDRAWN,
    COMPLAINT_FILED, COMPLAINT_ACCEPTED, COMPLAINT_REJECTED, COMPLAINT_TRANSFERRED, COMPLAINT_CLOSED,
)
COMPLAINT_EVENTS: tuple[str, ...] = (COMPLAINT_FILED, COMPLAINT_ACCEPTED, COMPLAINT_REJECTED, COMPLAINT_TRANSFERRED,
                                     COMPLAINT_CLOSED)

# A record's events by its kind: list entries are "added" and "removed" where the other records
# are "published" and then end in their own words.
PUBLISHED: Mapping[str, str] = {"rating": RATING_PUBLISHED, "violation": VIOLATION_PUBLISHED,
                                "disclosure": DISCLOSURE_PUBLISHED, "list_entry": LIST_ENTRY_ADDED,
                                "inspection": INSPECTION_PUBLISHED}
CORRECTED: Mapping[str, str] = {"rating": RATING_CORRECTED, "violation": VIOLATION_CORRECTED,
                                "disclosure": DISCLOSURE_CORRECTED, "list_entry": LIST_ENTRY_CORRECTED,
                                "inspection": INSPECTION_CORRECTED}
# How a rating, violation or disclosure leaves public life, by kind and new status. No other pair
# happens: a disclosure has no term to run out, and of these kinds only violations are repaired.
# (A list entry that ends is LIST_ENTRY_REMOVED, with the status as its reason.)
ENDED: Mapping[tuple[str, str], str] = {
    ("rating", "withdrawn"): RATING_WITHDRAWN, ("rating", "expired"): RATING_EXPIRED,
    ("violation", "withdrawn"): VIOLATION_WITHDRAWN, ("violation", "expired"): VIOLATION_EXPIRED,
    ("violation", "repaired"): VIOLATION_REPAIRED,
    ("disclosure", "withdrawn"): DISCLOSURE_WITHDRAWN,
    ("inspection", "withdrawn"): INSPECTION_WITHDRAWN,
}

# What POST /v1/webhooks/endpoints/{id}/test sends. Not an event: no seq, not in the feed, never
# retried; documented as a webhook beside the events.
WEBHOOK_TEST = "webhook.test"


def matches(event_type: str, patterns: Sequence[str] | None) -> bool:
    """``patterns`` as a subscriber writes them: none at all or ``*`` for every event, a family
    (``list_entry.*``), or one type (``violation.published``). Kept as given, matched here."""
    return not patterns or any(p == "*" or event_type == p or (p.endswith(".*") and event_type.startswith(p[:-1]))
                               for p in patterns)
