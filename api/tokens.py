"""Access tokens: the only module that imports ``jose`` (python-jose, behind this one wrapper).

Tokens are ES256 JWTs with ``kid`` and ``typ: at+jwt``. Verification pins one algorithm per key,
requires every registered claim, and adds the checks python-jose does not make (RFC 8725;
shared/research/security-reliability-anchors.md §2): unknown header parameters such as ``crit``,
``jku`` or ``jwk`` are refused, ``iat`` in the future, over-long lifetimes and non-integer times
are refused, and ``kid`` is only ever a key into an in-memory dict.

Keys: on the embedded default each key is a PEM file in ``data_dir/keys`` (mode 0600) whose name
is its ``kid``. ``rotate`` adds a new key and writes beside each key it supersedes a
``KID.retires`` file: the moment (epoch seconds) that key stops verifying, one ``GRACE`` later.
``retire`` ends a key at once: it leaves a ``KID.retired`` tombstone and deletes the private key.
Every process compares the directory's listing on each use and re-reads it when it changed, so a
rotation or a retirement made by any process (or the CLI) holds in all of them from their next
request, and a retirement's moment is judged on every verification, never only when keys are
loaded. In production the key comes from settings; previous keys configured there verify for one
``GRACE`` after the process starts.
"""

import fcntl
import math
import os
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jose import jwk, jwt
from jose.backends import ECKey
from jose.exceptions import ExpiredSignatureError, JOSEError, JWSError, JWTClaimsError

from service.rules.clock import Clock, SystemClock

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
# A superseded key verifies for as long as the last token it signed is accepted: its lifetime plus
# the leeway. No process signs with it after the rotation, because each one looks at the key
# directory before it signs.
GRACE = ACCESS_TTL + LEEWAY

# Why a token was refused: a closed set, so it can label a metric.
REFUSAL_REASONS = ("malformed", "forbidden_header", "wrong_type", "unknown_kid", "retired_kid", "bad_signature",
                   "expired", "not_yet_valid", "wrong_issuer", "wrong_audience", "invalid_claims")


class InvalidToken(Exception):
    """The token is not acceptable. ``reason`` is one of ``REFUSAL_REASONS`` and the message says
    more, both for the operator; clients only learn it was refused."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason = reason


class KeyringError(Exception):
    """A key operation that was refused; the message says why and what to do instead."""


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
    retires_at: float | None = None  # epoch seconds; None while it signs (or may sign)


@dataclass(frozen=True)
class _KeySet:
    """One consistent reading of the keys, swapped in whole so a request never sees half a reload."""

    signing_kid: str
    signing_pem: bytes
    keys: dict[str, _Key]
    retired: frozenset[str] = field(default_factory=frozenset)


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


def _write_new(path: Path, content: bytes) -> None:
    """Write ``content`` as ``path`` (owner-only), whole or not at all: another process listing
    the directory must never read a half-written key or marker."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def create_key_file(directory: Path) -> str:
    """A new signing key in ``directory`` (created owner-only). Returns its kid."""
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    kid = _new_kid(datetime.now(UTC))
    _write_new(directory / f"{kid}.pem", _private_pem(_new_private_key()))
    return kid


@contextmanager
def _changing(directory: Path) -> Iterator[None]:
    """Rotations, retirements and the first key, one at a time over every process: two rotations
    at once would each mark the other's new key as superseded."""
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def generate_key_pem() -> tuple[str, str]:
    """``(kid, private PEM)`` for production configuration."""
    return _new_kid(datetime.now(UTC)), _private_pem(_new_private_key()).decode()


class Keyring:
    """Signing key plus the keys tokens are still verified with; safe to share between threads.

    ``clock`` is the service's clock: it says when a superseded key's grace has ended. Token times
    (``iat``, ``exp``) are the system time's, which python-jose reads itself; in production the
    two are the same clock.
    """

    def __init__(self, *, directory: Path | None = None, signing_kid: str = "", signing_pem: str = "",
                 previous: dict[str, str] | None = None, clock: Clock | None = None) -> None:
        self._directory = directory
        self._clock = clock or SystemClock()
        # The listing and the key set read from it, one tuple so that threads swap them together.
        self._state: tuple[tuple[str, ...] | None, _KeySet]
        if directory is None:
            if not signing_kid:
                raise ValueError("signing_key_id is required with signing_key")
            public = _public_pem_of(signing_pem.encode())
            # Configuration cannot say when the previous key was rotated out; this process began
            # with the new one, so tokens the previous key signed expire within a grace of now.
            grace_ends = self._moment() + GRACE
            keys = {kid: _Key(kid, pem.encode(), grace_ends) for kid, pem in (previous or {}).items()}
            keys[signing_kid] = _Key(signing_kid, public)
            self._state = (None, _KeySet(signing_kid, signing_pem.encode(), keys))
        else:
            self.reload()

    def _moment(self) -> float:
        return self._clock.now().timestamp()

    def _list(self) -> tuple[str, ...]:
        assert self._directory is not None
        try:
            return tuple(sorted(os.listdir(self._directory)))
        except FileNotFoundError:
            return ()

    def _current(self) -> _KeySet:
        """The key set, re-read first when another process (or the CLI) changed the directory.
        A listing is a few microseconds; it is what makes a retirement hold at once everywhere."""
        if self._directory is not None and self._list() != self._state[0]:
            self.reload()
        return self._state[1]

    def reload(self) -> None:
        """Read the key directory. The newest key without a retirement signs (one is created when
        there is none); older keys verify until the moment written beside them, and keys of a
        directory from before those markers until one grace after the next key was made."""
        assert self._directory is not None
        listing = self._list()
        keyset = self._read(listing)
        if keyset is None:
            with _changing(self._directory):
                if self._read(self._list()) is None:
                    create_key_file(self._directory)
            listing = self._list()
            keyset = self._read(listing)
            assert keyset is not None
        # Concurrent reloads may land in any order: a stale pair is re-read on its next use, since
        # its listing no longer matches the directory's.
        self._state = (listing, keyset)

    def _read(self, listing: tuple[str, ...]) -> _KeySet | None:
        assert self._directory is not None
        names = set(listing)
        retired = frozenset(n.removesuffix(".retired") for n in names if n.endswith(".retired"))
        kids = sorted(n.removesuffix(".pem") for n in names
                      if n.endswith(".pem") and _KID.fullmatch(n.removesuffix(".pem")) and n[:-4] not in retired)
        # Keys without a marker: the newest signs, and each older one (a directory from before
        # the markers, or two first starts at once) retires one grace after the next was made.
        unmarked = [kid for kid in kids if f"{kid}.retires" not in names]
        keys: dict[str, _Key] = {}
        private: dict[str, bytes] = {}
        for kid in kids:
            try:
                private[kid] = (self._directory / f"{kid}.pem").read_bytes()
            except FileNotFoundError:  # retired by another process since the listing
                continue
            retires_at: float | None = None
            if kid not in unmarked:
                retires_at = self._marker(kid)
            elif kid != unmarked[-1]:
                retires_at = float(_kid_time(unmarked[unmarked.index(kid) + 1]) + GRACE)
            keys[kid] = _Key(kid, _public_pem_of(private[kid]), retires_at)
        signers = [kid for kid in keys if keys[kid].retires_at is None]
        if not signers:
            return None
        return _KeySet(signers[-1], private[signers[-1]], keys, retired)

    def _marker(self, kid: str) -> float:
        assert self._directory is not None
        try:
            return float((self._directory / f"{kid}.retires").read_text().strip())
        except (FileNotFoundError, ValueError):
            return float("-inf")  # gone with a retirement, or unreadable: fail closed

    def rotate(self) -> str:
        """Add a new signing key; the keys it supersedes verify for one ``GRACE`` from now (their
        tokens are accepted until they expire), then never again."""
        assert self._directory is not None, "in production, rotate by configuration"
        with _changing(self._directory):
            self.reload()
            grace_ends = self._moment() + GRACE
            superseded = [key for key in self._state[1].keys.values()
                          if not (self._directory / f"{key.kid}.retires").exists()]
            kid = create_key_file(self._directory)
            for key in superseded:
                ends = grace_ends if key.retires_at is None else min(key.retires_at, grace_ends)
                _write_new(self._directory / f"{key.kid}.retires", f"{math.ceil(ends)}\n".encode())
        self.reload()
        return kid

    def retire(self, kid: str) -> None:
        """Retire ``kid`` now: tokens it signed are refused from the next request of every process
        reading this directory, and its private key is deleted. The key that signs today's tokens
        cannot be retired before another one replaces it."""
        assert self._directory is not None, "in production, retire by configuration"
        with _changing(self._directory):
            self.reload()
            keyset = self._state[1]
            if kid in keyset.retired:
                raise KeyringError(f"the signing key {kid} was already retired")
            if kid not in keyset.keys:
                raise KeyringError(f"there is no signing key {kid} in {self._directory}")
            if kid == keyset.signing_kid:
                raise KeyringError(
                    f"{kid} is the key that signs new tokens, and no other key can take its place: run "
                    "`credit-registry rotate-signing-key` first, then retire it")
            # The tombstone first: from the moment it exists every process refuses the key, even one
            # that still finds the key file.
            _write_new(self._directory / f"{kid}.retired",
                       f"retired at {self._clock.now().isoformat(timespec='seconds')}\n".encode())
            (self._directory / f"{kid}.pem").unlink(missing_ok=True)
            (self._directory / f"{kid}.retires").unlink(missing_ok=True)
        self.reload()

    def _live(self, key: _Key) -> bool:
        return key.retires_at is None or self._moment() < key.retires_at

    def issue(self, *, issuer: str, audience: str, client_id: str, department_code: str,
              scopes: frozenset[str], ttl: int = ACCESS_TTL) -> tuple[str, int]:
        keyset = self._current()
        now = _now()
        claims = {
            "iss": issuer, "aud": audience, "sub": client_id, "dept": department_code,
            "scope": " ".join(sorted(scopes)), "iat": now, "nbf": now, "exp": now + min(ttl, ACCESS_TTL),
            "jti": secrets.token_urlsafe(16),
        }
        token = jwt.encode(claims, keyset.signing_pem.decode(), algorithm=ALGORITHM,
                           headers={"kid": keyset.signing_kid, "typ": TOKEN_TYPE})
        return token, min(ttl, ACCESS_TTL)

    def verify(self, token: str, *, issuer: str, audience: str) -> VerifiedToken:
        if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or not _COMPACT_JWS.fullmatch(token):
            raise InvalidToken("malformed")
        try:
            header = jwt.get_unverified_header(token)  # only to choose the key
        except JOSEError as error:
            raise InvalidToken("malformed", "malformed header") from error
        if set(header) - {"alg", "typ", "kid"}:
            raise InvalidToken("forbidden_header", "unexpected header parameters")  # crit, jku, x5u, jwk, x5c...
        if header.get("typ") != TOKEN_TYPE or header.get("alg") != ALGORITHM:
            raise InvalidToken("wrong_type", "wrong typ or alg")
        kid = header.get("kid")
        keyset = self._current()
        key = keyset.keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise InvalidToken("retired_kid" if isinstance(kid, str) and kid in keyset.retired else "unknown_kid")
        if not self._live(key):
            raise InvalidToken("retired_kid", "signed with a key whose grace has ended")
        try:
            claims = jwt.decode(
                token, key.public_pem.decode(), algorithms=[ALGORITHM], audience=audience, issuer=issuer,
                options={"require_exp": True, "require_iat": True, "require_nbf": True, "require_aud": True,
                         "require_iss": True, "require_sub": True, "require_jti": True, "leeway": LEEWAY},
            )
        except JOSEError as error:
            raise InvalidToken(_reason_of(error), f"rejected: {type(error).__name__}") from error
        return _checked(claims)

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid, key in sorted(self._current().keys.items()):
            if not self._live(key):
                continue
            entry = jwk.construct(key.public_pem.decode(), ALGORITHM).to_dict()
            keys.append({**{k: v for k, v in entry.items() if k in ("kty", "crv", "x", "y")},
                         "kid": kid, "alg": ALGORITHM, "use": "sig"})
        return {"keys": keys}


def _reason_of(error: JOSEError) -> str:
    if isinstance(error, ExpiredSignatureError):
        return "expired"
    if isinstance(error, JWTClaimsError):
        message = str(error)
        if "audience" in message or "claim format" in message:  # the claim format message is aud's
            return "wrong_audience"
        if "issuer" in message:
            return "wrong_issuer"
        if "not yet valid" in message:
            return "not_yet_valid"
        return "invalid_claims"
    # jwt.decode wraps the signature check's JWSError in a JWTError.
    if isinstance(error, JWSError) or any(isinstance(arg, JWSError) for arg in error.args) \
            or isinstance(error.__context__, JWSError):
        return "bad_signature"
    return "invalid_claims"


def _checked(claims: dict[str, Any]) -> VerifiedToken:
    for name in ("exp", "iat", "nbf"):
        if type(claims.get(name)) is not int:
            raise InvalidToken("invalid_claims", f"{name} is not an integer")
    now = _now()
    if claims["iat"] > now + LEEWAY:
        raise InvalidToken("not_yet_valid", "issued in the future")
    if claims["exp"] - claims["iat"] > ACCESS_TTL:
        raise InvalidToken("invalid_claims", "lifetime longer than allowed")
    for name in ("sub", "dept", "scope", "jti"):
        if not isinstance(claims.get(name), str) or not claims[name]:
            raise InvalidToken("invalid_claims", f"{name} missing")
    return VerifiedToken(client_id=claims["sub"], department_code=claims["dept"],
                         scopes=frozenset(claims["scope"].split()), token_id=claims["jti"],
                         expires_at=claims["exp"])
