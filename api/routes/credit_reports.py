"""Signed credit reports: issued to departments and credit-checking systems, verified by anyone
with the report keys (``/.well-known/credit-report-jwks.json``)."""

from typing import Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from api import report_signing
from api.deps import ClockDep, ReadSession, Today
from api.problems import problem_responses
from api.request_audit import audited_transaction, request_audit
from api.routes.organizations import AUTH_ERRORS, CodePath
from api.schemas.credit_reports import CreditReportIssued, ReportKeySet
from api.security import CREDIT_CHECK_SCOPES, CreditChecker
from api.web import report_document
from service.credit import report_keys, reports
from service.rules.clock import Day

router = APIRouter()

ReportFormat = Literal["json", "pdf", "html"]


@router.get("/v1/organizations/{code}/credit-report", response_model=CreditReportIssued, tags=["organizations"],
            operation_id="credit_report", openapi_extra=CREDIT_CHECK_SCOPES,
            responses={200: {"description": "The report: JSON (default), the PDF, or the printable page",
                             "content": {"application/pdf": {}, "text/html": {}}},
                       **problem_responses(*AUTH_ERRORS, 404, 503)})
def credit_report(request: Request, actor: CreditChecker, clock: ClockDep, today: Today, code: str = CodePath,
                  as_of: Day | None = Query(default=None, description="The day (China Standard Time) the report "
                                            "describes; default today. A day after today is refused (422)"),
                  format_: ReportFormat = Query(default="json", alias="format",
                                                description="json (with the JWS), pdf, or html (the printable page)"),
                  ) -> Response:
    """Issue a signed credit report: lists, grade, supervision class, the measures that apply and
    the public records with their ids and versions, as of a day; public data only (names and
    summaries masked). Every call issues a new report with its own id, kept by the registry; the
    audit entry names it. Anyone verifies it on `/verify` (or `/verify/{report_id}`, where its QR
    code leads), with `credit-registry verify-report`, or offline with the report JWKS."""
    # Its own unit of work, committed before the PDF is drawn: SQLite's write turn is not held for it.
    with audited_transaction(request) as session:
        issued = reports.issue(session, code, as_of=as_of, today=today, now=clock.now(), sign=report_signing.sign,
                               client_id=actor.client_id, department_code=actor.department_code)
        request_audit(request).detail = f"credit report {issued.report_id}"
    if format_ == "pdf":
        return report_document.pdf(request, issued.claims, jws=issued.jws)
    if format_ == "html":
        return report_document.page(request, issued.claims, jws=issued.jws)
    return JSONResponse({"report_id": issued.report_id, "issued_at": issued.claims["issued_at"], "jws": issued.jws,
                         "report": issued.claims, "verify_url": report_document.verify_url(request, issued.report_id),
                         "pdf_url": report_document.pdf_url(request, issued.report_id)})


@router.get("/.well-known/credit-report-jwks.json", response_model=ReportKeySet, tags=["public"],
            operation_id="credit_report_jwks")
def credit_report_jwks(session: ReadSession) -> JSONResponse:
    """Public keys (JWK Set) that verify credit reports: every key that ever signed one, retired or
    not. Kept apart from `/.well-known/jwks.json` on purpose: token keys leave that set about 15
    minutes after a rotation (tokens live no longer), while a report is attached to bids and
    contracts for years and must verify for ever, so its keys are never removed. Mixing the two
    would keep dead token keys trusted, or make old reports unverifiable."""
    return JSONResponse(report_keys.jwks(session), headers={"Cache-Control": "public, max-age=300"})
