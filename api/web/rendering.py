"""What every page shares: the caller's language, rendering a template with the page's words and
links, a message page, and refusing form posts another site made a browser send."""

from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.web.forms import FormError, read_form
from api.web.i18n import Language, words

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")

MAX_FORM_BYTES = 16 * 1024


def language(request: Request) -> Language:
    return "en" if request.query_params.get("lang") == "en" else "zh"


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """A page in the caller's language. Its security and caching headers are api/middleware/security_headers.py's,
    the same for every HTML answer."""
    lang = language(request)

    def link(path: str, **params: Any) -> str:
        query = {k: v for k, v in params.items() if v not in (None, "")} | ({"lang": "en"} if lang == "en" else {})
        return path + ("?" + urlencode(query) if query else "")

    others = {k: v for k, v in request.query_params.items() if k != "lang"}
    switch = {**others, **({} if lang == "en" else {"lang": "en"})}
    return templates.TemplateResponse(
        request, template, status_code=status,
        context={"lang": lang, "t": words(lang), "link": link,
                 "switch_language": request.url.path + ("?" + urlencode(switch) if switch else ""), **context},
    )


def message(request: Request, status: int, title_key: str, message: str) -> HTMLResponse:
    return render(request, "message.html", status=status, title=words(language(request))[title_key],
                   message=message)


def cross_site(request: Request) -> bool:
    """A form post that a page of another site made the browser send (CSRF). Browsers say where
    a request comes from in Sec-Fetch-Site, or else in Origin; a client that sends neither is no
    browser acting for someone else, so it is let through."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return False
    return origin == "null" or urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower()


async def form_from_this_site(request: Request) -> dict[str, str] | HTMLResponse:
    """A page's form as posted, or the page that says why it is refused (another site, a bad body)."""
    if cross_site(request):
        return message(request, 403, "error_title", words(language(request))["cross_site"])
    try:
        return await read_form(request, max_bytes=MAX_FORM_BYTES)
    except FormError as error:
        return message(request, 400, "error_title", str(error))
