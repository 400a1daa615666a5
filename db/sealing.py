"""Webhook signing secrets are stored sealed (AES-256-GCM) with a key kept outside the database,
so a copy of the database (a backup, a replica, a dump) cannot forge the registry's webhooks.

The registry needs the secret itself to sign, so a hash will not do. Each value is sealed with a
fresh 96-bit nonce and bound to its endpoint (associated data): a sealed value copied onto another
endpoint does not open. A stored value without the prefix is a secret written before sealing
existed: it is read as it is, and ``credit-registry seal-secrets`` seals it.
"""

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlmodel import Session

PREFIX = "sealed:v1:"
KEY_BYTES = 32


class SealingKeyMismatch(Exception):
    """A sealed value does not open with this key (another registry's key, or a changed key)."""


class Sealer:
    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"the secrets key must be {KEY_BYTES} bytes")
        self._aead = AESGCM(key)

    def seal(self, secret: str, *, endpoint_id: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, secret.encode(), endpoint_id.encode())
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, stored: str, *, endpoint_id: str) -> str:
        if not is_sealed(stored):
            return stored
        try:
            raw = base64.urlsafe_b64decode(stored[len(PREFIX):])
            return self._aead.decrypt(raw[:12], raw[12:], endpoint_id.encode()).decode()
        except (InvalidTag, ValueError):  # another key, another endpoint's value, or a damaged one
            raise SealingKeyMismatch(f"the secret of webhook endpoint {endpoint_id} does not open with "
                                     "this registry's secrets key") from None


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)


def new_key() -> str:
    """A key for REGISTRY_SECRETS_KEY (base64url)."""
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode()


def decode_key(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))


def sealer_of(session: Session) -> Sealer:
    sealer: Sealer | None = session.info.get("sealer")
    if sealer is None:
        raise RuntimeError("this database was opened without a secrets key (db.session.open_database(sealer=...))")
    return sealer
