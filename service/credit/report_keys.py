"""The keys that sign credit reports (ES256, P-256).

A report verifies for ever: an enterprise attaches it to a bid years after it was issued. So a
key is never deleted; rotation only stops it signing (``retired_at``), and its public half stays
in the report JWKS. The private half is stored sealed (``db.sealing``, bound to its kid), so a
copy of the database cannot sign reports.

The first key is made on first use. Two processes making it at once each add one (unique kids):
both verify, and the newer signs from then on.
"""

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlmodel import Session

from db.repositories.reports import ReportRepository
from db.sealing import sealer_of
from db.tables import ReportSigningKey

ALGORITHM = "ES256"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_pem: str


def _b64url(number: int) -> str:
    return base64.urlsafe_b64encode(number.to_bytes(32, "big")).rstrip(b"=").decode()


def public_jwk(key: ec.EllipticCurvePublicKey, kid: str) -> dict[str, Any]:
    numbers = key.public_numbers()
    return {"kty": "EC", "crv": "P-256", "x": _b64url(numbers.x), "y": _b64url(numbers.y),
            "kid": kid, "alg": ALGORITHM, "use": "sig"}


def _new_key(session: Session, now: datetime) -> ReportSigningKey:
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    kid = f"report-es256-{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"
    key = ReportSigningKey(kid=kid, public_jwk=public_jwk(private.public_key(), kid),
                           sealed_private_key=sealer_of(session).seal(pem, endpoint_id=kid), created_at=now)
    ReportRepository(session).add_key(key)
    return key


def _opened(session: Session, key: ReportSigningKey) -> SigningKey:
    return SigningKey(key.kid, sealer_of(session).open(key.sealed_private_key, endpoint_id=key.kid))


def signing_key(session: Session, now: datetime) -> SigningKey:
    """The newest key that still signs; the first is made here on first use."""
    key = ReportRepository(session).newest_signing_key() or _new_key(session, now)
    return _opened(session, key)


def rotate(session: Session, now: datetime) -> str:
    """A new key signs from now on; every older one stops signing and stays published. Its kid."""
    key = _new_key(session, now)
    ReportRepository(session).retire_all_but(key.kid, at=now)
    return key.kid


def jwks(session: Session) -> dict[str, Any]:
    """Every report key there ever was, retired or not (JWK Set)."""
    return {"keys": [dict(key.public_jwk) for key in ReportRepository(session).every_key()]}
