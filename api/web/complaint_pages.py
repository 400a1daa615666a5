"""Complaint pages, for anyone and without login: filing a complaint (投诉举报) about an
organization or a product, and following it with its ticket and secret. The same service calls
as the public API, so the pages refuse and answer what the API does."""

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from api.deps import ClockDep, ReadSessions, Today, UnitsOfWork
from api.web.complaint_words import complaint_words
from api.web.rendering import form_from_this_site, language, render
from service.complaints import filing
from service.complaints.filing import CATEGORIES, ComplaintFiling
from service.errors import Conflict, InvalidCode, InvalidRecord, NotFound

router = APIRouter(include_in_schema=False)

_FIELDS = ("subject", "organization", "product_name", "brand", "producer", "category", "description", "contact")


def _form_page(request: Request, form: dict[str, str], *, error: str | None = None, status: int = 200) -> HTMLResponse:
    return render(request, "complaint_new.html", status=status, t=complaint_words(language(request)), form=form,
                  categories=CATEGORIES, error=error)


@router.get("/complaints/new", response_class=HTMLResponse)
def complaint_page(request: Request, organization: str | None = Query(None, max_length=64)) -> HTMLResponse:
    return _form_page(request, {"subject": "organization", "organization": organization or ""})


def _filing(form: dict[str, str]) -> ComplaintFiling:
    """The form as the API body: empty fields left out, one evidence link a line, a checkbox."""
    body: dict[str, Any] = {k: form[k] for k in _FIELDS if form.get(k, "").strip()}
    if body.get("subject") == "organization":  # the other subject's fields stay in the form, unused
        body = {k: v for k, v in body.items() if k not in ("product_name", "brand", "producer")}
    elif body.get("subject") == "product":
        body.pop("organization", None)
    body["evidence_urls"] = [line.strip() for line in form.get("evidence_urls", "").splitlines() if line.strip()]
    body["anonymous"] = form.get("anonymous") == "on"
    return ComplaintFiling.model_validate(body)


@router.post("/complaints/new", response_class=HTMLResponse)
async def file_complaint_page(request: Request, clock: ClockDep, units: UnitsOfWork) -> HTMLResponse:
    form = await form_from_this_site(request)
    if isinstance(form, HTMLResponse):
        return form

    def file() -> HTMLResponse:
        try:
            with units() as session:
                filed = filing.file_complaint(session, _filing(form), now=clock.now())
        except ValidationError as invalid:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'form'}: {e['msg']}" for e in invalid.errors())
            return _form_page(request, form, error=problems, status=422)
        except (InvalidCode, InvalidRecord, NotFound, Conflict) as refused:
            status = 409 if isinstance(refused, Conflict) else 404 if isinstance(refused, NotFound) else 422
            return _form_page(request, form, error=refused.detail, status=status)
        return render(request, "complaint_filed.html", status=201, t=complaint_words(language(request)), filed=filed)

    return await run_in_threadpool(file)


@router.get("/complaints", response_class=HTMLResponse)
def complaint_status_form(request: Request) -> HTMLResponse:
    """Where the filer follows a complaint with its ticket and secret."""
    return render(request, "complaint_status.html", t=complaint_words(language(request)), form={}, found=None)


@router.post("/complaints", response_class=HTMLResponse)
async def complaint_status_page(request: Request, today: Today, read_sessions: ReadSessions) -> HTMLResponse:
    # The secret comes in the body, never the address: addresses end up in logs and histories.
    form = await form_from_this_site(request)
    if isinstance(form, HTMLResponse):
        return form
    ticket, secret = form.get("ticket", "").strip()[:40], form.get("secret", "").strip()[:100]
    t = complaint_words(language(request))

    def status() -> HTMLResponse:
        with read_sessions() as session:  # a read: it never waits for the writer's turn
            try:
                found = filing.complaint_status(session, ticket, secret, today=today)
            except filing.ComplaintNotFound:
                return render(request, "complaint_status.html", status=404, t=t, form={"ticket": ticket}, found=None,
                              error=t["complaint_unknown"])
        return render(request, "complaint_status.html", t=t, form={"ticket": ticket}, found=found)

    return await run_in_threadpool(status)
