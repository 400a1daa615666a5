"""Opaque keyset cursors: the last key of a page, so the next page starts after it (no OFFSET).

A cursor comes back from the caller, so it is input like any other: whatever it decodes to, only
the shapes this service issues get through to a query. Anything else is a 422 naming ``cursor``.
"""

import base64
import binascii
import json
from typing import Any

from service.errors import InvalidQuery

# Every key a cursor carries is a column value: integers past BIGINT overflow the database
# driver (SQLite's and psycopg's), which would be a 500 instead of the caller's mistake.
_BIGINT = 2**63


def _refused() -> InvalidQuery:
    return InvalidQuery("the cursor is not one this service issued; start again without it", param="cursor")


def encode_cursor(*key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key), separators=(",", ":")).encode()).decode().rstrip("=")


def _issued(part: Any) -> bool:
    if isinstance(part, bool):  # an int to Python, never a key of ours
        return False
    if isinstance(part, int):
        return -_BIGINT <= part < _BIGINT
    # Keys are codes, ids and ISO dates. A NUL or a lone surrogate would reach the database as text
    # it refuses to encode or store.
    return isinstance(part, str) and part.isprintable()


def decode_cursor_parts(cursor: str | None, *, size: int) -> list[Any] | None:
    if cursor is None:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        key = None
    if not isinstance(key, list) or len(key) != size or not all(_issued(k) for k in key):
        raise _refused()
    return key


def decode_cursor(cursor: str | None) -> str | None:
    """A single-string cursor (e.g. a code, an id)."""
    parts = decode_cursor_parts(cursor, size=1)
    if parts is None:
        return None
    if not isinstance(parts[0], str):
        raise _refused()
    return parts[0]


def decode_position_cursor(cursor: str | None) -> int | None:
    """A single-integer cursor (a row's sequence number)."""
    parts = decode_cursor_parts(cursor, size=1)
    if parts is None:
        return None
    if not isinstance(parts[0], int) or parts[0] < 0:
        raise _refused()
    return parts[0]
