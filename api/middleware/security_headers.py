"""Headers every response carries, and the API docs pages' Content-Security-Policy.

``X-Content-Type-Options: nosniff`` goes on every answer (JSON, problem+json, HTML, CSV, static
files, refusals sent from middleware): a browser must never run as a script, or show as a page,
what the registry sent as something else, such as text a department or the public wrote.

The docs pages (/docs, /redoc; their scripts and styles served from this service by
fastapi-offline, never a CDN) need a few lines of inline script to start Swagger UI or ReDoc.
Their CSP allows scripts from 'self' plus exactly those inline blocks, by their SHA-256 hashes,
read from the page as it is sent: a hash cannot go stale when FastAPI changes the page, and no
nonce has to be threaded into HTML that FastAPI writes. Styles likewise, with one exception:
ReDoc (styled-components) writes <style> elements while it runs, whose content no hash can know
in advance, so /redoc alone allows inline styles; its scripts stay pinned all the same. Its
search runs in a worker started from a blob: URL (``worker-src blob:``). ReDoc's
footer also asks for a logo from its vendor's CDN: img-src keeps that request from leaving the
browser, and ReDoc hides the image when it fails.

Every HTML answer, whoever rendered it (a page, an error page, the docs), also carries
``X-Frame-Options: DENY`` (with ``frame-ancestors 'none'``: no page can be framed and clicked
through) and ``Cache-Control: no-store``. A page can show what must not outlive the visit (the
ticket secret after filing an objection, a ticket's status), and one rule for all pages, set here
rather than by each route, cannot be forgotten by the next page. Public pages lose their 304s;
the JSON answers, where caching pays, keep theirs.
"""

import base64
import hashlib
from html.parser import HTMLParser

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DOCS_POLICY = ("default-src 'none'; script-src {scripts}; style-src {styles}; img-src 'self' data:; "
               "font-src 'self'; connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'; "
               "base-uri 'none'; form-action 'self'; object-src 'none'")


class _InlineBlocks(HTMLParser):
    """The contents of the page's inline <script> and <style> elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self._into: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script" and not any(name == "src" for name, _ in attrs):
            self._into = self.scripts
        elif tag == "style":
            self._into = self.styles
        else:
            return
        self._into.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._into = None

    def handle_data(self, data: str) -> None:
        if self._into is not None:
            self._into[-1] += data


def _sources(blocks: list[str]) -> str:
    return " ".join(["'self'", *(f"'sha256-{base64.b64encode(hashlib.sha256(b.encode()).digest()).decode()}'"
                                 for b in blocks)])


def docs_policy(html: str, *, styles_at_run_time: bool = False) -> str:
    """The CSP that lets exactly this page's inline scripts (and styles) run."""
    blocks = _InlineBlocks()
    blocks.feed(html)
    blocks.close()
    # A hash in style-src would switch 'unsafe-inline' off: one or the other.
    styles = "'self' 'unsafe-inline'" if styles_at_run_time else _sources(blocks.styles)
    return DOCS_POLICY.format(scripts=_sources(blocks.scripts), styles=styles)


# The registry's own pages: no script at all, styles and images from this service only.
PAGE_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self'; form-action 'self'; "
               "frame-ancestors 'none'; base-uri 'none'; object-src 'none'")


def _page_headers(headers: MutableHeaders, *, policy: str | None = None) -> None:
    if policy is not None or "content-security-policy" not in headers:
        headers["content-security-policy"] = policy or PAGE_POLICY
    headers["x-frame-options"] = "DENY"
    headers["referrer-policy"] = "same-origin"
    headers["cache-control"] = "no-store"


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, docs_pages: frozenset[str], styled_at_run_time: frozenset[str]) -> None:
        self.app, self.docs_pages, self.styled_at_run_time = app, docs_pages, styled_at_run_time

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] in self.docs_pages:
            await self._docs_page(scope, receive, send)
            return

        async def with_nosniff(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                headers["x-content-type-options"] = "nosniff"
                if headers.get("content-type", "").startswith("text/html"):
                    _page_headers(headers)
            await send(message)

        await self.app(scope, receive, with_nosniff)

    async def _docs_page(self, scope: Scope, receive: Receive, send: Send) -> None:
        # A few kilobytes of HTML: held until complete, so the policy can name its inline blocks.
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffered(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            start.setdefault("headers", [])
            headers = MutableHeaders(scope=start)
            headers["x-content-type-options"] = "nosniff"
            _page_headers(headers, policy=docs_policy(
                body.decode("utf-8", "replace"), styles_at_run_time=scope["path"] in self.styled_at_run_time))
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, buffered)
