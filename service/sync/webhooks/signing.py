"""Standard Webhooks (v1, HMAC-SHA256) signatures: what the delivery worker sends and what a
subscriber checks (shared/research/webhooks-anchors.md §1).

The key is the base64-decoded part of ``whsec_<base64>``. The signed content is
``webhook-id.webhook-timestamp.body`` over the exact body bytes; during a secret rotation the
header carries one signature per valid secret, space-separated, newest first.
"""

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping

SECRET_PREFIX = "whsec_"
TOLERANCE_SECONDS = 5 * 60
_TIMESTAMP = re.compile(r"[0-9]{1,15}")


class SignatureInvalid(Exception):
    """The message is not signed by any of the given secrets (or is stale, or malformed)."""


def new_secret() -> str:
    """32 random bytes, inside the spec's 24-64 byte range."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def _key(secret: str) -> bytes:
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError("a webhook secret is whsec_ followed by base64") from error
    if not key:
        raise ValueError("a webhook secret may not be empty")
    return key


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One signature token, ``v1,<base64 HMAC-SHA256>``."""
    signed = message_id.encode() + b"." + str(int(timestamp)).encode("ascii") + b"." + body
    return "v1," + base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest()).decode("ascii")


def signature_header(secrets_newest_first: Iterable[str], message_id: str, timestamp: int, body: bytes) -> str:
    return " ".join(sign(s, message_id, timestamp, body) for s in secrets_newest_first)


def verify(secrets_to_try: Iterable[str], headers: Mapping[str, str], body: bytes, *, now: int) -> None:
    """Raise ``SignatureInvalid`` unless ``body`` carries a valid v1 signature by one of the secrets
    and its timestamp is within five minutes of ``now``."""
    lowered = {k.lower(): v for k, v in headers.items()}
    message_id, raw_timestamp = lowered.get("webhook-id"), lowered.get("webhook-timestamp")
    header = lowered.get("webhook-signature")
    if not (message_id and raw_timestamp and header):
        raise SignatureInvalid("missing webhook-id, webhook-timestamp or webhook-signature")
    if not _TIMESTAMP.fullmatch(raw_timestamp):
        raise SignatureInvalid("webhook-timestamp is not an integer")
    timestamp = int(raw_timestamp)
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise SignatureInvalid("webhook-timestamp is more than five minutes away")
    expected = [base64.b64decode(sign(s, message_id, timestamp, body)[3:]) for s in secrets_to_try]
    for token in header.split(" "):
        version, _, encoded = token.partition(",")
        if version != "v1" or not encoded:
            continue  # other schemes (v1a...) are not ours to check
        try:
            given = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        if any(hmac.compare_digest(given, e) for e in expected):
            return
    raise SignatureInvalid("no matching signature")
