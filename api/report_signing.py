"""Credit reports as compact JWS (ES256): signing, and the verification anyone can repeat.

Beside ``api.tokens``, the only module that imports ``jose``. A report is the JSON claims of
``service.credit.reports.payload`` signed with the protected header ``{alg: ES256, kid, typ:
credit-report+jws}``. Verification is strict, as for tokens (RFC 8725): the algorithm is pinned,
any other header parameter (``crit``, ``jku``, ``jwk``, ``x5u``...) or another ``typ`` is refused,
the key comes only from the given JWKS by its ``kid``, and each part must be base64url in its one
canonical spelling, so no altered character can leave the decoded bytes the same.
"""

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any

from jose import jws
from jose.backends import ECKey
from jose.exceptions import JOSEError

from service.credit.report_keys import ALGORITHM, SigningKey

# Refuse the pure-Python backend (python-ecdsa: CVE-2024-23342, and slow).
if ECKey.__name__ != "CryptographyECKey":  # pragma: no cover - depends on the installation
    raise RuntimeError("python-jose must use the 'cryptography' backend: install python-jose[cryptography]")

REPORT_TYPE = "credit-report+jws"
# A report with thousands of records stays far below this; anything longer is not ours.
MAX_REPORT_LENGTH = 4 * 1024 * 1024
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


class NotGenuine(Exception):
    """The text is not a report the registry signed as it is; ``reason`` says why, for people."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"not genuine: {reason}")
        self.reason = reason


def _claims_bytes(claims: Mapping[str, Any]) -> bytes:
    # Chinese as it is (not \u escapes): the payload stays readable when decoded by hand.
    return json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode()


def sign(claims: Mapping[str, Any], key: SigningKey) -> str:
    signed: str = jws.sign(_claims_bytes(claims), key.private_pem, algorithm=ALGORITHM,
                           headers={"kid": key.kid, "typ": REPORT_TYPE})
    return signed


def _decoded(part: str, what: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise NotGenuine(f"the {what} is not base64url") from None
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != part:
        raise NotGenuine(f"the {what} is not in canonical base64url (a character was changed)")
    return raw


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
        raise NotGenuine(f"the {what} is not JSON (it was altered)") from None
    if not isinstance(value, dict):
        raise NotGenuine(f"the {what} is not a JSON object")
    return value


def _key(jwks: Mapping[str, Any], kid: object) -> dict[str, Any]:
    keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
    found = [k for k in keys if isinstance(k, dict) and k.get("kid") == kid] if isinstance(keys, list) else []
    if not isinstance(kid, str) or len(found) != 1:
        raise NotGenuine(f"signed with a key the registry never published ({str(kid)[:80]!r})")
    key = found[0]
    if key.get("kty") != "EC" or key.get("crv") != "P-256" or key.get("alg", ALGORITHM) != ALGORITHM:
        raise NotGenuine("the published key with this kid is not an ES256 key")
    return key


def jws_of(text: str) -> str:
    """The report in what a person has at hand: the .jws text itself, or the API's JSON answer."""
    stripped = text.strip().lstrip("\ufeff")
    if not stripped.startswith("{"):
        return stripped
    try:
        answer = json.loads(stripped)
    except (ValueError, RecursionError):
        raise NotGenuine("neither a signed report nor the registry's JSON answer") from None
    if not isinstance(answer, dict) or not isinstance(answer.get("jws"), str):
        raise NotGenuine("this JSON holds no signed report (no \"jws\")")
    jws_text: str = answer["jws"]
    return jws_text


def kid_of(report: str) -> str | None:
    """The kid a report's header names: read, not verified (to say which key verified it)."""
    try:
        kid = _json_object(_decoded(report.strip().split(".")[0], "header"), "header").get("kid")
    except NotGenuine:
        return None
    return kid if isinstance(kid, str) else None


def verify(report: str, jwks: Mapping[str, Any]) -> dict[str, Any]:
    """The claims of ``report`` (a compact JWS) if a key of ``jwks`` signed exactly this text;
    else ``NotGenuine`` with the reason."""
    text = report.strip() if isinstance(report, str) else ""
    if not text:
        raise NotGenuine("nothing to verify")
    if len(text) > MAX_REPORT_LENGTH:
        raise NotGenuine("far longer than any credit report")
    parts = text.split(".")
    if len(parts) != 3 or not all(_BASE64URL.fullmatch(part) for part in parts):
        raise NotGenuine("not a signed report (three base64url parts joined by dots)")
    header = _json_object(_decoded(parts[0], "header"), "header")
    claims_raw, signature = _decoded(parts[1], "content"), _decoded(parts[2], "signature")
    if set(header) - {"alg", "kid", "typ"}:
        # repr: the names are the sender's, and the CLI prints this to a terminal.
        unexpected = ", ".join(repr(name) for name in sorted(set(header) - {"alg", "kid", "typ"}))
        raise NotGenuine(f"unexpected header parameters: {unexpected[:200]}")
    if header.get("alg") != ALGORITHM:
        raise NotGenuine(f"signed with {str(header.get('alg'))[:20]!r}, not {ALGORITHM}")
    if header.get("typ") != REPORT_TYPE:
        raise NotGenuine(f"not a credit report (typ {str(header.get('typ'))[:40]!r})")
    if len(signature) != 64:
        raise NotGenuine("the signature is not an ES256 signature")
    key = _key(jwks, header.get("kid"))
    try:
        jws.verify(text, key, algorithms=[ALGORITHM])
    except JOSEError:
        raise NotGenuine("the signature does not match the content: the report was altered") from None
    claims = _json_object(claims_raw, "content")
    if not isinstance(claims.get("report_id"), str):
        raise NotGenuine("the signed content is not a credit report")
    return claims
