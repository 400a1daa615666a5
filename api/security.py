"""Authentication and scope checks for the department API.

``current_actor`` verifies the bearer token (api.tokens), then checks in the database that the
client still exists, is not revoked and still holds the scopes: revocation takes effect on the
next request, not when the token expires. Route signatures name what they need with the aliases
at the bottom (``Reader``, ``Writer``, ``ListWriter``, ``Admin``).
"""

import logging
import threading
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import OAuth2, SecurityScopes
from starlette.requests import HTTPConnection

from api.middleware.rate_limit import ClientAddress, RateLimiter
from api.request_audit import request_audit
from api.tokens import REFUSAL_REASONS, InvalidToken, Keyring
from db.session import read_session
from service.access import clients
from service.access.actors import SCOPE_DESCRIPTIONS, Actor, Scope

log = logging.getLogger("registry.auth")

TOKEN_URL = "/v1/auth/token"


class BearerAuth(OAuth2):
    """OAuth2 client credentials in the OpenAPI document (so /docs shows the scopes); the token is
    taken from the Authorization header only, never from the query string."""

    def __init__(self) -> None:
        flows = OAuthFlows(clientCredentials=OAuthFlowClientCredentials(
            tokenUrl=TOKEN_URL, scopes={s.value: d for s, d in SCOPE_DESCRIPTIONS.items()}))
        super().__init__(flows=flows, scheme_name="departmentToken", auto_error=False,
                         description="Client credentials of a department's API client")

    async def __call__(self, request: HTTPConnection) -> str | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None


bearer = BearerAuth()


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": 'Bearer realm="credit-registry"'})


def keyring_of(request: HTTPConnection) -> Keyring:
    keyring: Keyring = request.app.state.keyring
    return keyring


async def get_keyring(request: Request) -> Keyring:
    return keyring_of(request)


async def get_token_request_wait(request: Request) -> float:
    """Seconds the caller's address must wait before asking for a token again; 0: this request may
    go on, and is counted. Every token request from an address counts, failed or not, before any
    secret is hashed: this bounds both guessing and the CPU an attacker can make the slow hash burn."""
    limiter: RateLimiter = request.app.state.token_limiter
    addresses: ClientAddress = request.app.state.client_address
    return limiter.retry_after(addresses.of(request.scope))


class TokenRefusals:
    """Bearer tokens that failed verification, counted by reason for /metrics (per process, as
    Prometheus counters are). They get no audit entry: nothing in such a token can be trusted to
    name a client, and an entry per forged token would let anyone write to the audit log at will."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(REFUSAL_REASONS, 0)

    def count(self, reason: str) -> None:
        with self._lock:
            self._counts[reason] = self._counts.get(reason, 0) + 1

    def exposition(self) -> str:
        with self._lock:
            counts = sorted(self._counts.items())
        return "\n".join([
            "# HELP registry_tokens_refused_total Bearer tokens that failed verification, by reason.",
            "# TYPE registry_tokens_refused_total counter",
            *(f'registry_tokens_refused_total{{reason="{reason}"}} {n}' for reason, n in counts),
        ]) + "\n"


def current_actor(
    security_scopes: SecurityScopes,
    request: Request,
    token: Annotated[str | None, Depends(bearer)],
) -> Actor:
    if token is None:
        raise _unauthorized("a bearer token is required")
    settings = request.app.state.settings
    try:
        verified = keyring_of(request).verify(token, issuer=settings.token_issuer, audience=settings.token_audience)
    except InvalidToken as error:
        request.app.state.token_refusals.count(error.reason)
        log.info("token refused: %s", error, extra={"reason": error.reason, "path": request.url.path,
                                                     "request_id": getattr(request.state, "request_id", None)})
        raise _unauthorized("the token is invalid, expired or revoked") from error
    trail = request_audit(request)
    try:
        # A read of its own, not the request's unit of work: checking the client must not hold
        # the write lock (SQLite) for a long-polling request.
        with read_session(request.app.state.database) as session:
            actor = clients.active_actor(session, verified.client_id, verified.department_code, verified.scopes)
    except clients.InvalidClient as error:
        # The signature is ours, so the token names a client we issued it to: that client's
        # department should see the refusal in its audit trail.
        client = error.client
        trail.identify(verified.client_id, client.department_code if client else verified.department_code)
        trail.detail = error.reason
        log.info("token refused: %s", error.reason, extra={"client_id": verified.client_id,
                                                           "path": request.url.path,
                                                           "request_id": getattr(request.state, "request_id", None)})
        raise _unauthorized("the token is invalid, expired or revoked") from error
    trail.identify(actor.client_id, actor.department_code)
    missing = [s for s in security_scopes.scopes if s not in actor.scopes]
    if missing:
        trail.detail = f"missing scope: {' '.join(missing)}"
        raise HTTPException(
            403, f"this client lacks the scope(s) {', '.join(missing)}",
            headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{" ".join(missing)}"'},
        )
    return actor


def _one_of(request: Request, actor: Actor, *accepted: Scope) -> Actor:
    names = sorted(scope.value for scope in accepted)
    if not actor.scopes & set(names):
        request_audit(request).detail = f"missing scope: {' or '.join(names)}"
        raise HTTPException(
            403, f"this client needs one of the scopes {', '.join(names)}",
            headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{names[0]}"'},
        )
    return actor


# OpenAPI cannot say "one of these scopes" through FastAPI's Security; a route whose dependency
# accepts alternatives names them here, and the document lists one security requirement for each
# (api.app: alternatives are what OpenAPI's list of requirements means).
ANY_OF = "x-scopes-any-of"
CREDIT_CHECK_SCOPES = {ANY_OF: [Scope.RECORDS_READ.value, Scope.CREDIT_CHECK.value]}
BATCH_READ_SCOPES = {ANY_OF: [Scope.RECORDS_WRITE.value, Scope.LISTS_WRITE.value]}


def credit_checker(request: Request, actor: Annotated[Actor, Security(current_actor)]) -> Actor:
    """A department's reader or a credit-checking system: either scope opens the credit check."""
    return _one_of(request, actor, Scope.CREDIT_CHECK, Scope.RECORDS_READ)


def batch_reader(request: Request, actor: Annotated[Actor, Security(current_actor)]) -> Actor:
    """A batch's results name records: only a client that may push one reads them (never a
    credit-checking client of the same department)."""
    return _one_of(request, actor, Scope.RECORDS_WRITE, Scope.LISTS_WRITE)


KeyringDep = Annotated[Keyring, Depends(get_keyring)]
TokenRequestWait = Annotated[float, Depends(get_token_request_wait)]
Reader = Annotated[Actor, Security(current_actor, scopes=[Scope.RECORDS_READ.value])]
Writer = Annotated[Actor, Security(current_actor, scopes=[Scope.RECORDS_WRITE.value])]
ListWriter = Annotated[Actor, Security(current_actor, scopes=[Scope.LISTS_WRITE.value])]
Admin = Annotated[Actor, Security(current_actor, scopes=[Scope.ADMIN.value])]
ObjectionHandler = Annotated[Actor, Security(current_actor, scopes=[Scope.OBJECTIONS_HANDLE.value])]
ComplaintHandler = Annotated[Actor, Security(current_actor, scopes=[Scope.COMPLAINTS_HANDLE.value])]
WebhookManager = Annotated[Actor, Security(current_actor, scopes=[Scope.WEBHOOKS_MANAGE.value])]
CreditChecker = Annotated[Actor, Depends(credit_checker)]
BatchReader = Annotated[Actor, Depends(batch_reader)]
# Any authenticated client; the service then requires records:write or lists:write by record kind.
RecordChanger = Annotated[Actor, Security(current_actor)]
