"""Identifiers: sortable, unguessable, readable in logs (``rec_01J...``)."""

import os
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid() -> str:
    """A ULID: 48-bit millisecond time + 80 random bits, Crockford base32, 26 characters.

    Time first, so ids created later sort later and B-tree inserts stay near the right edge.
    """
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    return f"{prefix}_{ulid()}"
