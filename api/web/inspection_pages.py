"""Pages for spot-check results (监督抽查): the product search and one result with its failed items.
They call the same service functions as the public API, so they show exactly what it answers."""

from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import ReadConnection
from api.web.inspection_words import inspection_words
from api.web.rendering import language, message, render, templates
from service.errors import InvalidCode, InvalidRecord
from service.public import inspections

router = APIRouter(include_in_schema=False)

# The profile page (organization.html) shows a producer's spot checks in these words too.
templates.env.globals["inspection_words"] = inspection_words


@router.get("/inspections", response_class=HTMLResponse)
def inspections_page(request: Request, conn: ReadConnection, q: str | None = Query(None, max_length=50),
                     result: str | None = Query(None, max_length=4), region: str | None = Query(None, max_length=30),
                     published_from: str | None = Query(None, alias="from", max_length=10),
                     published_to: str | None = Query(None, alias="to", max_length=10),
                     producer: str | None = Query(None, max_length=64),
                     category: str | None = Query(None, max_length=200),
                     cursor: str | None = Query(None, max_length=200)) -> HTMLResponse:
    t = inspection_words(language(request))
    shown = {"q": q, "result": result, "region": region, "from": published_from, "to": published_to,
             "producer": producer, "category": category}
    page, error = None, None
    try:
        if result not in (None, "", "pass", "fail"):
            raise InvalidRecord("result: pass or fail", field="result")
        filters = inspections.filters_of(
            conn, result=result or None, region=region or None,
            published_from=date.fromisoformat(published_from) if published_from else None,
            published_to=date.fromisoformat(published_to) if published_to else None,
            producer=producer or None, category=category or None)
        page = inspections.search(conn, q, filters, cursor=cursor, limit=20)
    except ValueError:
        error = "from / to: YYYY-MM-DD"
    except (InvalidRecord, InvalidCode) as invalid:  # a producer code that does not parse is said on the page
        error = invalid.detail
    given = {k: v for k, v in shown.items() if v}
    export = "/v1/public/inspections/export?" + urlencode({"format": "csv", **given})
    return render(request, "inspections.html", status=422 if error else 200, t=t, page=page, error=error,
                  filters=shown, given=given, export=export)


@router.get("/inspections/{record_id}", response_class=HTMLResponse)
def inspection_page(request: Request, record_id: str, conn: ReadConnection) -> HTMLResponse:
    t = inspection_words(language(request))
    try:
        found = inspections.one(conn, record_id[:40])
    except inspections.InspectionNotFound:
        return message(request, 404, "error_title", t["inspection_not_found"])
    return render(request, "inspection.html", t=t, i=found)
