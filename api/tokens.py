"""Access tokens: the only module that imports ``jose`` (python-jose, behind this one wrapper).

Tokens are ES256 JWTs with ``kid`` and ``typ: at+jwt``. Verification pins one algorithm per key,
requires every registered claim, and adds the checks python-jose does not make (RFC 8725;
shared/research/security-reliability-anchors.md §2): unknown header parameters such as ``crit``,
``jku`` or ``jwk`` are refused, ``iat`` in the future, over-long lifetimes and non-integer times
are refused, and ``kid`` is only ever a key into an in-memory dict.

Keys: on the embedded default each key is a PEM file in ``data_dir/keys`` (mode 0600) whose name
is its ``kid``; the newest signs, older ones verify until every token they signed has expired.
``rotate`` adds a new key without downtime. In production the key comes from settings.
"""

import os
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jose import jwk, jwt
from jose.backends import ECKey
from jose.exceptions import JOSEError

# Refuse the pure-Python backend (python-ecdsa: CVE-2024-23342, and slow).
if ECKey.__name__ != "CryptographyECKey":  # pragma: no cover - depends on the installation
    raise RuntimeError("python-jose must use the 'cryptography' backend: install python-jose[cryptography]")

ALGORITHM = "ES256"
TOKEN_TYPE = "at+jwt"
ACCESS_TTL = 900  # seconds; the contract caps access tokens at 15 minutes
LEEWAY = 30
MAX_TOKEN_LENGTH = 4096
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]{1,1000}\.[A-Za-z0-9_-]{1,3000}\.[A-Za-z0-9_-]{1,200}")
_KID = re.compile(r"es256-\d{8}T\d{6}Z-[0-9a-f]{6}")
_RELOAD_INTERVAL = 10.0  # seconds between key reloads triggered by an unknown kid
# Every process re-reads the key directory this often, so after a rotation all of them sign with
# the new key within this time; the previous key verifies for a token lifetime after that.
SIGNER_RELOAD = 60.0
GRACE = ACCESS_TTL + LEEWAY + int(SIGNER_RELOAD)


class InvalidToken(Exception):
    """The token is not acceptable. The reason is for logs; clients only learn it was refused."""


@dataclass(frozen=True)
class VerifiedToken:
    client_id: str
    department_code: str
    scopes: frozenset[str]
    token_id: str
    expires_at: int


@dataclass(frozen=True)
class _Key:
    kid: str
    public_pem: bytes


def _now() -> int:
    return int(time.time())


def _new_private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _public_pem_of(private_pem: bytes) -> bytes:
    key = serialization.load_pem_private_key(private_pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("the signing key must be an EC P-256 private key (ES256)")
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def _new_kid(at: datetime) -> str:
    return f"es256-{at.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def _kid_time(kid: str) -> int:
    return int(datetime.strptime(kid[6:22], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp())


def create_key_file(directory: Path) -> str:
    """A new signing key in ``directory`` (created owner-only). Returns its kid."""
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    kid = _new_kid(datetime.now(UTC))
    path = directory / f"{kid}.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(_private_pem(_new_private_key()))
    return kid


def generate_key_pem() -> tuple[str, str]:
    """``(kid, private PEM)`` for production configuration."""
    return _new_kid(datetime.now(UTC)), _private_pem(_new_private_key()).decode()


class Keyring:
    """Signing key plus the keys tokens are still verified with; thread-safe reloads."""

    def __init__(self, *, directory: Path | None = None, signing_kid: str = "", signing_pem: str = "",
                 previous: dict[str, str] | None = None) -> None:
        self._directory = directory
        self._lock = threading.Lock()
        self._loaded_at = 0.0
        if directory is None:
            if not signing_kid:
                raise ValueError("signing_key_id is required with signing_key")
            public = _public_pem_of(signing_pem.encode())
            keys = {signing_kid: _Key(signing_kid, public)}
            keys |= {kid: _Key(kid, pem.encode()) for kid, pem in (previous or {}).items()}
            self._set(signing_kid, signing_pem.encode(), keys)
        else:
            self.reload()

    def _set(self, signing_kid: str, signing_pem: bytes, keys: dict[str, _Key]) -> None:
        self._signing_kid, self._signing_pem, self._keys = signing_kid, signing_pem, keys
        self._loaded_at = time.monotonic()

    def reload(self) -> None:
        """Read the key directory: create the first key if there is none; drop keys whose tokens
        have all expired (they were superseded more than one token lifetime ago)."""
        assert self._directory is not None
        with self._lock:
            files = sorted(p for p in self._directory.glob("es256-*.pem") if _KID.fullmatch(p.stem)) \
                if self._directory.exists() else []
            if not files:
                create_key_file(self._directory)
                files = sorted(self._directory.glob("es256-*.pem"))
            newest = files[-1]
            grace_ends = _kid_time(newest.stem) + GRACE
            keys = {}
            for path in files:
                if path is newest or _now() < grace_ends:
                    keys[path.stem] = _Key(path.stem, _public_pem_of(path.read_bytes()))
            self._set(newest.stem, newest.read_bytes(), keys)

    def rotate(self) -> str:
        """Add a new signing key; the previous one keeps verifying its tokens until they expire."""
        assert self._directory is not None, "in production, rotate by configuration"
        kid = create_key_file(self._directory)
        self.reload()
        return kid

    def _key_for(self, kid: str) -> _Key | None:
        key = self._keys.get(kid)
        if key is None and self._directory is not None and _KID.fullmatch(kid) \
                and time.monotonic() - self._loaded_at > _RELOAD_INTERVAL:
            self.reload()  # another process may have rotated; bounded so it is no DoS lever
            key = self._keys.get(kid)
        return key

    def issue(self, *, issuer: str, audience: str, client_id: str, department_code: str,
              scopes: frozenset[str], ttl: int = ACCESS_TTL) -> tuple[str, int]:
        if self._directory is not None and time.monotonic() - self._loaded_at > SIGNER_RELOAD:
            self.reload()
        now = _now()
        claims = {
            "iss": issuer, "aud": audience, "sub": client_id, "dept": department_code,
            "scope": " ".join(sorted(scopes)), "iat": now, "nbf": now, "exp": now + min(ttl, ACCESS_TTL),
            "jti": secrets.token_urlsafe(16),
        }
        token = jwt.encode(claims, self._signing_pem.decode(), algorithm=ALGORITHM,
                           headers={"kid": self._signing_kid, "typ": TOKEN_TYPE})
        return token, min(ttl, ACCESS_TTL)

    def verify(self, token: str, *, issuer: str, audience: str) -> VerifiedToken:
        if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or not _COMPACT_JWS.fullmatch(token):
            raise InvalidToken("malformed")
        try:
            header = jwt.get_unverified_header(token)  # only to choose the key
        except JOSEError as error:
            raise InvalidToken("malformed header") from error
        if set(header) - {"alg", "typ", "kid"}:
            raise InvalidToken("unexpected header parameters")  # crit, jku, x5u, jwk, x5c...
        if header.get("typ") != TOKEN_TYPE or header.get("alg") != ALGORITHM:
            raise InvalidToken("wrong typ or alg")
        kid = header.get("kid")
        key = self._key_for(kid) if isinstance(kid, str) else None
        if key is None:
            raise InvalidToken("unknown kid")
        try:
            claims = jwt.decode(
                token, key.public_pem.decode(), algorithms=[ALGORITHM], audience=audience, issuer=issuer,
                options={"require_exp": True, "require_iat": True, "require_nbf": True, "require_aud": True,
                         "require_iss": True, "require_sub": True, "require_jti": True, "leeway": LEEWAY},
            )
        except JOSEError as error:
            raise InvalidToken(f"rejected: {type(error).__name__}") from error
        return _checked(claims)

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid, key in sorted(self._keys.items()):
            entry = jwk.construct(key.public_pem.decode(), ALGORITHM).to_dict()
            keys.append({**{k: v for k, v in entry.items() if k in ("kty", "crv", "x", "y")},
                         "kid": kid, "alg": ALGORITHM, "use": "sig"})
        return {"keys": keys}


def _checked(claims: dict[str, Any]) -> VerifiedToken:
    for name in ("exp", "iat", "nbf"):
        if type(claims.get(name)) is not int:
            raise InvalidToken(f"{name} is not an integer")
    now = _now()
    if claims["iat"] > now + LEEWAY:
        raise InvalidToken("issued in the future")
    if claims["exp"] - claims["iat"] > ACCESS_TTL:
        raise InvalidToken("lifetime longer than allowed")
    for name in ("sub", "dept", "scope", "jti"):
        if not isinstance(claims.get(name), str) or not claims[name]:
            raise InvalidToken(f"{name} missing")
    return VerifiedToken(client_id=claims["sub"], department_code=claims["dept"],
                         scopes=frozenset(claims["scope"].split()), token_id=claims["jti"],
                         expires_at=claims["exp"])
