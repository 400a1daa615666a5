"""Opaque keyset cursors: the last key of a page, so the next page starts after it (no OFFSET)."""

import base64
import binascii
import json
from typing import Any

from service.errors import InvalidQuery


def encode_cursor(*key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key), separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor_parts(cursor: str | None, *, size: int) -> list[Any] | None:
    if cursor is None:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        key = None
    if not isinstance(key, list) or len(key) != size or not all(isinstance(k, (str, int)) for k in key):
        raise InvalidQuery("the cursor is not one this service issued; start again without it", param="cursor")
    return key


def decode_cursor(cursor: str | None) -> str | None:
    """A single-string cursor (e.g. a code)."""
    parts = decode_cursor_parts(cursor, size=1)
    if parts is None:
        return None
    if not isinstance(parts[0], str):
        raise InvalidQuery("the cursor is not one this service issued; start again without it", param="cursor")
    return parts[0]
