"""Request bodies: refused over a size limit (413) and when they stop arriving (408), before a
route holds them."""

import asyncio

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.middleware.answers import send_problem


class _BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request bodies are limited to {limit} bytes")


class _BodyStalled(HTTPException):
    def __init__(self, idle: float) -> None:
        super().__init__(408, f"the request body stalled: no data for {idle:g} s", headers={"Connection": "close"})


class BodyLimit:
    """Request bodies over ``max_bytes`` are refused with 413 problem+json: at once when the
    Content-Length says so (nothing is read), else as soon as the bytes read pass the limit
    (chunked uploads), so no body is ever held in memory beyond the limit.

    A body that stops arriving for ``idle_seconds`` is refused with 408: a client trickling its
    body (or gone without closing) would otherwise hold its in-flight place, and on the thread
    pool a thread, for ever. The limit is on silence, not on the whole upload, so a large bulk
    push that keeps sending is never cut short."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, idle_seconds: float,
                 larger: dict[str, int] | None = None) -> None:
        # ``larger``: paths whose routes stream the body (bulk push) and may take more.
        self.app, self.max_bytes, self.idle_seconds, self.larger = app, max_bytes, idle_seconds, larger or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope["path"], self.max_bytes)
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > limit:
            detail = f"request bodies are limited to {limit} bytes"
            await send_problem(send, 413, "Content Too Large", "about:blank", detail, [(b"connection", b"close")])
            return
        total, complete = 0, False

        async def counted() -> Message:
            nonlocal total, complete
            if complete:  # past the body, a receive waits for the disconnect: not a stall
                return await receive()
            try:
                async with asyncio.timeout(self.idle_seconds):
                    message = await receive()
            except TimeoutError:
                raise _BodyStalled(self.idle_seconds) from None
            if message["type"] == "http.request":
                total += len(message.get("body", b""))
                if total > limit:
                    # An HTTPException, so the framework turns it into the usual problem response.
                    raise _BodyTooLarge(limit)
                complete = not message.get("more_body", False)
            return message

        await self.app(scope, counted, send)
