"""A credit report as people read it: the printable page (A4, print CSS) with a QR code to its
verification address, and the same page as a PDF (WeasyPrint, Debian's Noto CJK fonts:
scripts/ensure-pdf.sh). Both are drawn from the signed claims alone, so they say what the
signature covers and nothing else.
"""

import logging
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import segno
from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from api.settings import Settings
from api.web.pages import _language, _render
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
    return _render(request, "report.html", status=status, t=report_words(_language(request)), r=claims, jws=jws,
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


def pdf(request: Request, claims: dict[str, Any], *, jws: str, kid: str | None = None) -> Response:
    """The same page as a PDF."""
    html = bytes(page(request, claims, jws=jws, kid=kid).body).decode()
    document = _renderer()(html)
    return Response(document, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{claims["report_id"]}.pdf"'})
