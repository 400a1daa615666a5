"""OAuth2 client credentials (RFC 6749 §4.4) and the public keys to verify our tokens."""

import base64
import binascii
import logging
import math
import re
from typing import Any
from urllib.parse import unquote_plus

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.deps import SettingsDep
from api.problems import PROBLEM_JSON, problem_response, problem_responses
from api.request_audit import audited_transaction, request_audit
from api.schemas.admin import TokenResponse
from api.security import KeyringDep, TokenRequestWait
from api.settings import Settings
from api.tokens import Keyring
from api.web.forms import FORM_TYPE, FormError, read_form
from service.access import clients

router = APIRouter(tags=["auth"])
log = logging.getLogger("registry.auth")

MAX_FORM_BYTES = 4096
_CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,40}")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

TOKEN_FORM_SCHEMA = {
    "required": True,
    "content": {"application/x-www-form-urlencoded": {"schema": {
        "type": "object",
        "required": ["grant_type"],
        "properties": {
            "grant_type": {"type": "string", "enum": ["client_credentials"]},
            "client_id": {"type": "string", "description": "Or send HTTP Basic client authentication"},
            "client_secret": {"type": "string", "format": "password"},
            "scope": {"type": "string", "description": "Space-separated subset of the client's scopes"},
        },
    }}},
}


class OAuthError(Exception):
    def __init__(self, status: int, error: str, description: str, *, basic: bool = False,
                 retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description
        self.basic, self.retry_after = basic, retry_after

    def response(self) -> JSONResponse:
        headers = dict(NO_STORE)
        if self.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="credit-registry"' if self.basic else "Bearer"
        if self.retry_after:
            headers["Retry-After"] = str(self.retry_after)
        titles = {400: "Bad Request", 401: "Unauthorized", 415: "Unsupported Media Type", 429: "Too Many Requests"}
        # Problem details that are also an RFC 6749 §5.2 error response (error, error_description).
        return problem_response(self.status, titles[self.status], detail=self.description,
                                type_=f"/problems/oauth-{self.error.replace('_', '-')}", headers=headers,
                                error=self.error, error_description=self.description)


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, sep, secret = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError) as error:
        raise OAuthError(401, "invalid_client", "malformed Basic credentials", basic=True) from error
    if not sep:
        raise OAuthError(401, "invalid_client", "malformed Basic credentials", basic=True)
    # RFC 6749 §2.3.1: client id and secret are form-urlencoded before Basic encoding.
    return unquote_plus(client_id), unquote_plus(secret)


def _issue(request: Request, keyring: Keyring, settings: Settings, client_id: str, secret: str,
           requested: str | None, basic: bool) -> dict[str, Any]:
    trail = request_audit(request)
    with audited_transaction(request) as session:
        try:
            client = clients.authenticate(session, client_id, secret)
        except clients.InvalidClient as error:
            if error.client is not None:  # a wrong secret for a real client: its department should know
                trail.identify(error.client.client_id, error.client.department_code)
                trail.detail = error.reason
            else:
                # Anonymous, and bounded by the per-address limit above. The id that was tried is
                # kept only when it looks like one of ours: it is the caller's text.
                trail.identify(None, None)
                trail.detail = f"unknown client {client_id}" if _CLIENT_ID.fullmatch(client_id) else "unknown client"
            raise OAuthError(401, "invalid_client", "client authentication failed", basic=basic) from None
        trail.identify(client.client_id, client.department_code)
        try:
            scopes = clients.token_scopes(client, requested)
        except clients.ScopeNotGranted as refused:
            raise OAuthError(400, "invalid_scope", str(refused)) from None
        token, expires_in = keyring.issue(
            issuer=settings.token_issuer, audience=settings.token_audience, client_id=client.client_id,
            department_code=client.department_code, scopes=scopes)
    return TokenResponse(access_token=token, expires_in=expires_in, scope=" ".join(sorted(scopes))).model_dump()


@router.post("/v1/auth/token", response_model=TokenResponse, operation_id="issue_token",
             openapi_extra={"requestBody": TOKEN_FORM_SCHEMA},
             responses={**problem_responses(400, 401, 429), 415: {"description": "Not form-encoded",
                                                                 "content": {PROBLEM_JSON: {}}}})
async def issue_token(request: Request, wait: TokenRequestWait, keyring: KeyringDep,
                      settings: SettingsDep) -> JSONResponse:
    """OAuth2 client credentials: form-encoded `grant_type=client_credentials` with `client_id` and
    `client_secret` (or HTTP Basic). Returns an ES256 JWT valid for at most 15 minutes."""
    try:
        if wait:  # counted before any secret is hashed (api.security.get_token_request_wait)
            raise OAuthError(429, "slow_down", "too many token requests from this address; try again later",
                             retry_after=max(1, math.ceil(wait)))
        if request.headers.get("content-type", "").split(";")[0].strip() != FORM_TYPE:
            raise OAuthError(415, "invalid_request", f"send the token request as {FORM_TYPE}")
        try:
            form = await read_form(request, max_bytes=MAX_FORM_BYTES)
        except FormError as error:
            raise OAuthError(400, "invalid_request", str(error)) from None
        if form.get("grant_type") != "client_credentials":
            raise OAuthError(400, "unsupported_grant_type", "only grant_type=client_credentials is supported")
        basic = _basic_credentials(request.headers.get("authorization", ""))
        if basic and ("client_id" in form or "client_secret" in form):
            raise OAuthError(400, "invalid_request", "send client credentials either in the form or with Basic")
        client_id, secret = basic or (form.get("client_id", ""), form.get("client_secret", ""))
        if not client_id or not secret:
            raise OAuthError(401, "invalid_client", "client_id and client_secret are required", basic=bool(basic))
        issued = await run_in_threadpool(_issue, request, keyring, settings, client_id, secret, form.get("scope"),
                                         bool(basic))
    except OAuthError as error:
        return error.response()
    return JSONResponse(issued, headers=NO_STORE)


@router.get("/.well-known/jwks.json", operation_id="jwks")
def jwks(keyring: KeyringDep) -> JSONResponse:
    """Public keys (JWK Set) that verify the registry's access tokens: the current signing key and
    any previous key whose tokens may still be valid."""
    return JSONResponse(keyring.jwks(), headers={"Cache-Control": "public, max-age=300"})
