"""Credit report pages, for anyone and without login: a report (printable, and as a PDF) and its
verification, by pasting or uploading the signed text or by following the QR code to
``/verify/{id}``. Each verification says what the registry says differently today."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from api import report_signing
from api.deps import ReadSession, Today
from api.report_signing import NotGenuine
from api.web import report_document
from api.web.forms import FormError
from api.web.rendering import cross_site, language, render
from api.web.report_words import report_words
from api.web.uploads import read_form_with_files
from service.credit import report_keys, reports
from service.credit.reports import Change, ReportNotFound
from service.errors import NotFound

router = APIRouter(include_in_schema=False)

# The longest report and a form's overhead around it.
MAX_UPLOAD_BYTES = report_signing.MAX_REPORT_LENGTH + 64 * 1024
_REPORT_ID_LENGTH = 40


@dataclass(frozen=True)
class Verification:
    genuine: bool
    reason: str | None = None
    claims: dict[str, Any] | None = None
    changes: list[Change] = field(default_factory=list)


def verification(session: Session, text: str, today: date) -> Verification:
    """Whether ``text`` (a report, or the API's answer holding one) is genuine; if so, what changed."""
    try:
        claims = report_signing.verify(report_signing.jws_of(text), report_keys.jwks(session))
    except NotGenuine as refused:
        return Verification(False, refused.reason)
    try:
        changes = reports.changes_since(session, claims, today)
    except NotFound:  # organizations are never deleted; a registry restored without this one still verifies it
        changes = []
    return Verification(True, claims=claims, changes=changes)


def _render_verify(request: Request, *, status: int = 200, **context: Any) -> HTMLResponse:
    return render(request, "verify.html", status=status, t=report_words(language(request)), **context)


def _not_found(request: Request) -> HTMLResponse:
    t = report_words(language(request))
    return render(request, "message.html", status=404, t=t, title=t["report_not_found_title"],
                   message=t["report_not_found"])


def _stored(session: Session, report_id: str) -> tuple[str, str, dict[str, Any]] | None:
    """The stored report's JWS, kid and claims (verified: a row altered in the database shows as such)."""
    try:
        report = reports.stored(session, report_id[:_REPORT_ID_LENGTH])
    except ReportNotFound:
        return None
    return report.jws, report.kid, report_signing.verify(report.jws, report_keys.jwks(session))


def _report_or_page(request: Request, session: Session, report_id: str) -> tuple[str, str, dict[str, Any]] | HTMLResponse:
    try:
        found = _stored(session, report_id)
    except NotGenuine as refused:
        return _render_verify(request, status=409, outcome=Verification(False, refused.reason))
    return found if found is not None else _not_found(request)


# Before /reports/{report_id}, which would take "rpt_....pdf" for an id.
@router.get("/reports/{report_id}.pdf", response_model=None)
def report_pdf(request: Request, report_id: str, session: ReadSession) -> Response:
    found = _report_or_page(request, session, report_id)
    if isinstance(found, HTMLResponse):
        return found
    jws, kid, claims = found
    return report_document.pdf(request, claims, jws=jws, kid=kid)


@router.get("/reports/{report_id}", response_class=HTMLResponse)
def report_page(request: Request, report_id: str, session: ReadSession) -> HTMLResponse:
    found = _report_or_page(request, session, report_id)
    if isinstance(found, HTMLResponse):
        return found
    jws, kid, claims = found
    return report_document.page(request, claims, jws=jws, kid=kid)


@router.get("/verify", response_class=HTMLResponse)
def verify_page(request: Request) -> HTMLResponse:
    return _render_verify(request, show_form=True)


@router.post("/verify", response_class=HTMLResponse)
async def verify_submitted(request: Request, session: ReadSession, today: Today) -> HTMLResponse:
    """A pasted or uploaded report, verified. Genuine or not, the answer is the page that says so
    (200); only a form with nothing in it is refused."""
    t = report_words(language(request))
    if cross_site(request):
        return render(request, "message.html", status=403, t=t, title=t["error_title"], message=t["cross_site"])
    try:
        form = await read_form_with_files(request, max_bytes=MAX_UPLOAD_BYTES)
    except FormError as error:
        return render(request, "message.html", status=400, t=t, title=t["error_title"], message=str(error))
    text = form.get("jws", "").strip() or form.get("file", "").strip()
    if not text:
        return _render_verify(request, status=422, show_form=True, error=t["nothing_to_verify"])
    outcome = await run_in_threadpool(verification, session, text, today)
    return _render_verify(request, outcome=outcome, show_form=True)


@router.get("/verify/{report_id}", response_class=HTMLResponse)
def verify_stored(request: Request, report_id: str, session: ReadSession, today: Today) -> HTMLResponse:
    """Where a report's QR code leads: the report as issued, verified, with what changed since."""
    try:
        report = reports.stored(session, report_id[:_REPORT_ID_LENGTH])
    except ReportNotFound:
        return _not_found(request)
    return _render_verify(request, outcome=verification(session, report.jws, today))
