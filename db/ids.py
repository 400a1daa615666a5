"""Identifiers: sortable, unguessable, readable in logs (``rec_01J...``)."""

import os
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PAIRS = [first + second for first in _CROCKFORD for second in _CROCKFORD]  # every 10 bits as 2 digits
_SHIFTS = tuple(range(120, -1, -10))


def ulid() -> str:
    """A ULID: 48-bit millisecond time + 80 random bits, Crockford base32, 26 characters.

    Time first, so ids created later sort later and B-tree inserts stay near the right edge.
    """
    return encode((int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big"))


def encode(value: int) -> str:
    """A 128-bit number as 26 Crockford base32 digits: 13 lookups of 10 bits each (Python 3.11's
    base64.b32encode is pure Python and was most of an id's cost; bulk push makes millions)."""
    return "".join([_PAIRS[(value >> shift) & 0x3FF] for shift in _SHIFTS])


def new_id(prefix: str) -> str:
    return f"{prefix}_{ulid()}"
