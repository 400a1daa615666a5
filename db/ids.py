"""Identifiers: sortable, unguessable, readable in logs (``rec_01J...``)."""

import base64
import os
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_FROM_RFC4648 = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _CROCKFORD.encode())


def ulid() -> str:
    """A ULID: 48-bit millisecond time + 80 random bits, Crockford base32, 26 characters.

    Time first, so ids created later sort later and B-tree inserts stay near the right edge.
    The 128 bits shifted left by 6 fill 17 bytes whose first 130 bits are the ULID's 26 digits;
    the standard base32 encoder turns them into characters in C (bulk push makes millions).
    """
    return encode((int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big"))


def encode(value: int) -> str:
    """A 128-bit number as 26 Crockford base32 digits."""
    return base64.b32encode((value << 6).to_bytes(17, "big"))[:26].translate(_FROM_RFC4648).decode()


def new_id(prefix: str) -> str:
    return f"{prefix}_{ulid()}"
