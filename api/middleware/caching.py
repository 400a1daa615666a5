"""HTTP caching for what anyone may fetch: ETag, Cache-Control and 304 on public GETs.

Pure ASGI middleware (no per-request object churn on the hottest path), applied only to public
paths: the department API is never cached.
"""

import hashlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.middleware.public_paths import is_public


class PublicCaching:
    """ETag and Cache-Control on successful public GETs; ``If-None-Match`` answers 304.

    The ETag is a hash of the body, so it changes exactly when the answer does. Streaming
    responses (exports) are passed through untouched, and so are pages: HTML is never stored
    (api/middleware/security_headers.py).
    """

    def __init__(self, app: ASGIApp, *, max_age: int) -> None:
        self.app = app
        self.cache_control = f"public, max-age={max_age}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or not is_public(scope["path"]) \
                or scope["path"].endswith("/export"):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        passing = False

        async def buffer(message: Message) -> None:
            nonlocal start, passing
            if message["type"] == "http.response.start":
                start = message
                # Errors and pages (never stored, api/middleware/security_headers.py) go out as they come.
                passing = message["status"] != 200 or any(
                    k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in message.get("headers", []))
                if passing:
                    await send(message)
                return
            if start is None or passing:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                await self._finish(scope, start, b"".join(chunks), send)

        await self.app(scope, receive, buffer)

    async def _finish(self, scope: Scope, start: Message, body: bytes, send: Send) -> None:
        if any(k.lower() == b"cache-control" for k, _ in start.get("headers", [])):
            # The route decided (e.g. no-store for a ticket read with its secret).
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        etag = b'W/"' + hashlib.blake2b(body, digest_size=12).hexdigest().encode() + b'"'
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() not in (b"etag", b"cache-control")]
        headers += [(b"etag", etag), (b"cache-control", self.cache_control)]
        wanted = b",".join(v for k, v in scope["headers"] if k == b"if-none-match")
        if etag in [t.strip() for t in wanted.split(b",")] or wanted.strip() == b"*":
            headers = [(k, v) for k, v in headers if k.lower() not in (b"content-length", b"content-type")]
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})
