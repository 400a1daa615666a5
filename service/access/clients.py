"""API clients of departments: created with a secret shown once, stored as a slow hash, revocable.

The hash is scrypt (stdlib, memory-hard); a wrong secret and an unknown client cost the same time,
so the token endpoint does not tell which client ids exist.
"""

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from db.ids import new_id
from db.repositories.clients import ClientRepository
from db.tables import ApiClient
from service.access.actors import ALL_SCOPES, Actor
from service.errors import InvalidRecord, InvalidTransition, NotFound
from service.rules.reference import require_department

SECRET_PREFIX = "crs_"
# scrypt's cost: ~60 ms a hash on this machine's cores; raise with hardware. New hashes use it;
# every stored hash carries its own parameters, so raising it never locks out an existing client.
# (The test suite, which creates a thousand clients, lowers it: the code path stays the same.)
SCRYPT_N = 2**14
_R, _P = 8, 1
_DUMMY_HASH = ""


class ClientNotFound(NotFound):
    title = "Client not found"


class InvalidClient(Exception):
    """Authentication failed. One message for every cause, so callers learn nothing from it;
    ``client`` (the existing client it was tried against) and ``reason`` are for the audit log only."""

    def __init__(self, client: ApiClient | None = None, reason: str = "unknown client") -> None:
        super().__init__("client authentication failed")
        self.client = client
        self.reason = reason


@dataclass(frozen=True)
class CreatedClient:
    client: ApiClient
    secret: str  # shown once; never stored


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_secret(secret: str, *, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=SCRYPT_N, r=_R, p=_P, maxmem=64 * 1024 * 1024, dklen=32)
    return f"scrypt${SCRYPT_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def secret_matches(secret: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        candidate = hashlib.scrypt(secret.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p),
                                   maxmem=64 * 1024 * 1024, dklen=32)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(candidate, _unb64(digest))


def parse_scopes(requested: Iterable[str]) -> frozenset[str]:
    scopes = frozenset(s for s in requested if s)
    unknown = sorted(scopes - {s.value for s in ALL_SCOPES})
    if unknown:
        raise InvalidRecord(f"unknown scope(s): {', '.join(unknown)}; known: "
                            f"{', '.join(sorted(s.value for s in ALL_SCOPES))}", field="scopes")
    if not scopes:
        raise InvalidRecord("a client needs at least one scope", field="scopes")
    return scopes


def create(session: Session, department_code: str, *, name: str, scopes: Iterable[str],
           now: datetime) -> CreatedClient:
    require_department(session, department_code)
    granted = parse_scopes(scopes)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient(
        client_id=new_id("cli"), department_code=department_code, name=name,
        scopes=" ".join(sorted(granted)), secret_hash=hash_secret(secret), created_at=now,
    )
    ClientRepository(session).add(client)
    return CreatedClient(client, secret)


def revoke(session: Session, client_id: str, *, reason: str, now: datetime) -> ApiClient:
    repository = ClientRepository(session)
    client = repository.get(client_id)
    if client is None:
        raise ClientNotFound(f"no client {client_id}")
    if client.revoked_at is not None:
        raise InvalidTransition(f"client {client_id} was already revoked")
    client.revoked_at, client.revoked_reason = now, reason
    repository.add(client)
    return client


def authenticate(session: Session, client_id: str, secret: str) -> ApiClient:
    """The client for these credentials, or ``InvalidClient``."""
    global _DUMMY_HASH
    client = ClientRepository(session).get(client_id) if len(client_id) <= 40 else None
    if client is None:
        # Same work as a real check, so timing does not reveal which client ids exist.
        _DUMMY_HASH = _DUMMY_HASH or hash_secret("dummy")
        secret_matches(secret, _DUMMY_HASH)
        raise InvalidClient
    if not secret_matches(secret, client.secret_hash):
        raise InvalidClient(client, "wrong secret")
    if client.revoked_at is not None:
        raise InvalidClient(client, "revoked")
    return client


class ScopeNotGranted(Exception):
    """A token asked for scopes its client does not hold, or for none."""

    def __init__(self, granted: frozenset[str]) -> None:
        super().__init__(f"this client may request only: {' '.join(sorted(granted))}")
        self.granted = granted


def token_scopes(client: ApiClient, requested: str | None) -> frozenset[str]:
    """The scopes a token for ``client`` carries: those ``requested`` (space-separated), by
    default every scope it holds; never one it does not hold."""
    granted = frozenset(client.scopes.split())
    scopes = frozenset(requested.split()) if requested else granted
    if not scopes or not scopes <= granted:
        raise ScopeNotGranted(granted)
    return scopes


def active_actor(session: Session, client_id: str, department_code: str, scopes: frozenset[str]) -> Actor:
    """The actor behind a verified token, if its client still exists, is not revoked, and still
    belongs to the department and holds the scopes the token claims."""
    client = ClientRepository(session).get(client_id)
    if client is None:
        raise InvalidClient
    if client.revoked_at is not None:
        raise InvalidClient(client, "revoked")
    if client.department_code != department_code:
        raise InvalidClient(client, f"wrong department: the token names {department_code}")
    if not_granted := scopes - frozenset(client.scopes.split()):
        raise InvalidClient(client, f"scope not granted: {' '.join(sorted(not_granted))}")
    return Actor(client_id, department_code, scopes)


def of_department(session: Session, department_code: str) -> list[ApiClient]:
    require_department(session, department_code)
    return list(ClientRepository(session).of_department(department_code))
