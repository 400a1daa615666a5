"""Web pages for people: search, an organization's profile, the red and black lists, and filing an
objection. Server-rendered (Jinja2), Chinese by default, English with ``?lang=en``.

Pages call the same service functions as the public API, so they show exactly what the API
answers. A bad code or query is a friendly page with the reason, never an error page.
"""

from datetime import date

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from api.deps import ClockDep, ReadConnection, Today, UnitsOfWork
from api.web import statistics_pages
from api.web.i18n import words
from api.web.rendering import form_from_this_site, language, message, render
from service.errors import Conflict, InvalidCode, InvalidRecord, OrganizationNotFound
from service.public import inspections, lists, organizations
from service.public.organizations import PublicProfile
from service.tickets import intake
from service.tickets.intake import ObjectionFiling

router = APIRouter(include_in_schema=False)
@router.get("/", response_class=HTMLResponse)
def search_page(request: Request, conn: ReadConnection, today: Today,
                q: str | None = Query(None, max_length=50), cursor: str | None = Query(None, max_length=200)) -> HTMLResponse:
    page, error = None, None
    if q:
        try:
            page = organizations.search(conn, q, today=today, cursor=cursor, limit=20)
        except InvalidRecord as invalid:
            error = invalid.detail
    # The bare home page shows the key figures and the newest entries (api/web/statistics_pages.py).
    home = None if q else statistics_pages.home_figures(conn, today)
    newest_failed = None if q else inspections.newest_failed(conn, 5, today)
    # A refused query is a 422, as on the list page: a crawler or monitor sees what a person reads.
    return render(request, "search.html", status=422 if error else 200, q=q, page=page, error=error, home=home,
                  newest_failed=newest_failed, st=statistics_pages.home_words(request))


def _profile_or_message(request: Request, conn: ReadConnection, code: str, today: date) -> PublicProfile | HTMLResponse:
    try:
        return organizations.profile(conn, code, today=today)
    except InvalidCode as invalid:
        return message(request, 422, "invalid_code_title", f"{code}: {invalid.detail}")
    except OrganizationNotFound:
        return message(request, 404, "not_found_title", words(language(request))["not_found_text"])


@router.get("/organizations/{code}", response_class=HTMLResponse)
def organization_page(request: Request, code: str, conn: ReadConnection, today: Today) -> HTMLResponse:
    profile = _profile_or_message(request, conn, code[:64], today)
    if isinstance(profile, HTMLResponse):
        return profile
    return render(request, "organization.html", p=profile)


def _objection_form(request: Request, profile: organizations.PublicProfile, record_id: str, *, form: dict[str, str],
                    error: str | None = None, status: int = 200) -> HTMLResponse:
    if record_id not in {r.id for r in profile.records}:
        return message(request, 404, "error_title", "record not on public display")
    return render(request, "objection.html", status=status, code=profile.code, name=profile.name,
                   record_id=record_id, form=form, error=error)


@router.get("/organizations/{code}/objection", response_class=HTMLResponse)
def objection_page(request: Request, code: str, conn: ReadConnection, today: Today,
                   record: str | None = Query(None, max_length=40)) -> HTMLResponse:
    profile = _profile_or_message(request, conn, code[:64], today)
    if isinstance(profile, HTMLResponse):
        return profile
    if record is None:  # e.g. the language switch on the page after filing
        return render(request, "organization.html", p=profile)
    return _objection_form(request, profile, record, form={})


@router.post("/organizations/{code}/objection", response_class=HTMLResponse)
async def file_objection_page(request: Request, code: str, today: Today, clock: ClockDep, units: UnitsOfWork) -> HTMLResponse:
    form = await form_from_this_site(request)
    if isinstance(form, HTMLResponse):
        return form
    form = {k: v for k, v in form.items() if k in ObjectionFiling.model_fields}

    def file() -> HTMLResponse:
        with units() as session:
            profile = organizations.profile(session.connection(), code[:64], today=today)
            try:
                filing = ObjectionFiling.model_validate({k: v for k, v in form.items() if v != ""})
                filed = intake.file_objection(session, filing, now=clock.now(), organization_uscc=profile.code)
            except ValidationError as invalid:
                problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in invalid.errors())
                return _objection_form(request, profile, form.get("record_id", ""), form=form, error=problems,
                                       status=422)
            except (InvalidRecord, Conflict) as refused:
                status = 409 if isinstance(refused, Conflict) else 422
                if form.get("record_id") not in {r.id for r in profile.records}:  # not this organization's
                    return message(request, status, "error_title", refused.detail)
                return _objection_form(request, profile, form.get("record_id", ""), form=form,
                                       error=refused.detail, status=status)
        return render(request, "filed.html", status=201, code=profile.code, filed=filed)

    try:
        return await run_in_threadpool(file)
    except (InvalidCode, OrganizationNotFound) as error:
        return message(request, 404, "not_found_title", error.detail)


@router.get("/lists/{list_name}", response_class=HTMLResponse)
def list_page(request: Request, list_name: str, conn: ReadConnection, today: Today,
              region: str | None = Query(None, max_length=30), department: str | None = Query(None, max_length=32),
              since: str | None = Query(None, max_length=10), cursor: str | None = Query(None, max_length=200)) -> HTMLResponse:
    if list_name not in ("red", "black"):
        return message(request, 404, "error_title", "red / black")
    filters = {"region": region, "department": department, "since": since}
    error, page = None, lists.ListPage([], None)
    try:
        since_date = date.fromisoformat(since) if since else None
        page = lists.browse(conn, list_name, today=today, region=region, department=department or None,
                                   since=since_date, cursor=cursor, limit=50)
    except ValueError:
        error = "since: YYYY-MM-DD"
    except InvalidRecord as invalid:
        error = invalid.detail
    return render(request, "list.html", status=422 if error else 200, list_name=list_name, page=page,
                   filters=filters, error=error)


@router.get("/tickets", response_class=HTMLResponse)
def ticket_page(request: Request) -> HTMLResponse:
    """Where a person follows an objection or repair request with its ticket and secret."""
    return render(request, "ticket.html", form={}, status_of=None)


@router.post("/tickets", response_class=HTMLResponse)
async def ticket_status_page(request: Request, today: Today, units: UnitsOfWork) -> HTMLResponse:
    # The secret comes in the body, never the address: addresses end up in logs and histories.
    form = await form_from_this_site(request)
    if isinstance(form, HTMLResponse):
        return form
    ticket, secret = form.get("ticket", "").strip()[:40], form.get("secret", "").strip()[:100]

    def status() -> HTMLResponse:
        with units() as session:
            try:
                found = intake.ticket_status(session, ticket, secret, today=today)
            except intake.TicketNotFound:
                return render(request, "ticket.html", status=404, form={"ticket": ticket},
                               status_of=None, error=words(language(request))["ticket_unknown"])
        return render(request, "ticket.html", form={"ticket": ticket}, status_of=found)

    return await run_in_threadpool(status)
