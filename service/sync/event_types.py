"""Which events a subscriber asked for: the one rule for the change feed's ``type`` filter and a
webhook endpoint's ``event_types``."""

from collections.abc import Sequence


def matches(event_type: str, patterns: Sequence[str] | None) -> bool:
    """``patterns`` as a subscriber writes them: none at all or ``*`` for every event, a family
    (``list_entry.*``), or one type (``violation.published``). Kept as given, matched here."""
    return not patterns or any(p == "*" or event_type == p or (p.endswith(".*") and event_type.startswith(p[:-1]))
                               for p in patterns)
