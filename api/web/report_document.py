"""A credit report as people read it: the printable page (A4, print CSS) with a QR code to its
verification address, and the same page as a PDF (WeasyPrint, Debian's Noto CJK fonts:
scripts/ensure-pdf.sh). Both are drawn from the signed claims alone, so they say what the
signature covers and nothing else.
"""

import logging
import threading
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import segno
from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from api.problems import problem_response
from api.settings import Settings
from api.web.rendering import language, render
from api.web.report_words import report_words

STATIC = Path(__file__).parent / "static"
# The address the PDF's relative links are read against; only its /static/ files are ever fetched.
_PDF_BASE = "https://registry.invalid/"


def public_base(request: Request) -> str:
    """Where people reach the registry: the configured public address, else the one asked."""
    settings: Settings = request.app.state.settings
    return (settings.public_base_url or str(request.base_url)).rstrip("/")


def verify_url(request: Request, report_id: str) -> str:
    return f"{public_base(request)}/verify/{report_id}"


def pdf_url(request: Request, report_id: str) -> str:
    return f"{public_base(request)}/reports/{report_id}.pdf"


def _qr_svg(url: str) -> str:
    # Inline SVG: no image request, nothing the page's CSP must allow, crisp on paper.
    return str(segno.make(url, error="m").svg_inline(scale=3, border=2, dark="#000", light="#fff"))


def page(request: Request, claims: dict[str, Any], *, jws: str, kid: str | None = None,
         status: int = 200) -> HTMLResponse:
    """The printable page of a report."""
    url = verify_url(request, claims["report_id"])
    return render(request, "report.html", status=status, t=report_words(language(request)), r=claims, jws=jws,
                   kid=kid, verify_url=url, qr=_qr_svg(url))


@cache
def _renderer() -> Callable[[str], bytes]:
    """WeasyPrint's HTML and a fetcher of the registry's own stylesheets only: a report never makes
    the renderer fetch anything else. Loaded on the first PDF (it loads Pango): without Pango
    (scripts/ensure-pdf.sh) the registry still serves everything else."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    # It warns of every screen-only rule of site.css it skips, on every PDF: noise, not news.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)

    class StaticFiles(URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no types
        def fetch(self, url: str, headers: dict[str, str] | None = None) -> Any:
            path = urlsplit(url).path
            name = path.removeprefix("/static/")
            if not path.startswith("/static/") or "/" in name or not (STATIC / name).is_file():
                raise ValueError(f"a report's PDF loads only the registry's stylesheets, not {url[:100]}")
            return URLFetcherResponse(url, body=(STATIC / name).read_bytes(), headers={"Content-Type": "text/css"})

    return lambda html: HTML(string=html, base_url=_PDF_BASE, url_fetcher=StaticFiles()).write_pdf()


# Drawing a PDF takes a core for a while: at most two at once per process, so public requests for
# PDFs cannot take every worker thread (the rest wait their turn, within the public budgets).
_RENDERING = threading.BoundedSemaphore(2)


class PdfUnavailable(Exception):
    """The PDF cannot be drawn here (Pango or its fonts are missing: scripts/ensure-pdf.sh)."""


def pdf(request: Request, claims: dict[str, Any], *, jws: str, kid: str | None = None) -> Response:
    try:
        return _pdf(request, claims, jws=jws, kid=kid)
    except PdfUnavailable:
        return problem_response(503, "PDF unavailable", instance=request.url.path,
                                detail="this registry cannot draw PDFs at the moment (its PDF libraries are "
                                       "missing); the report itself is issued: ask for format=json or html")


def _pdf(request: Request, claims: dict[str, Any], *, jws: str, kid: str | None = None) -> Response:
    """The same page as a PDF. Not stored by shared caches: its QR code and link name the address
    the registry was reached at when no public address is configured."""
    html = bytes(page(request, claims, jws=jws, kid=kid).body).decode()
    with _RENDERING:
        try:
            document = _renderer()(html)
        except OSError as error:  # WeasyPrint could not load Pango
            raise PdfUnavailable(str(error)) from error
    return Response(document, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{claims["report_id"]}.pdf"',
                             "Cache-Control": "no-store"})
