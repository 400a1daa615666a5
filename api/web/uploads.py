"""A page's form with a file in it (multipart/form-data), read with a size cap by the standard
library's MIME parser; an ordinary form (urlencoded) is read by ``api.web.forms``."""

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from api.web.forms import FORM_TYPE, FormError, read_form

MULTIPART_TYPE = "multipart/form-data"
# The verification form has two fields (the pasted text, the file). Parsing is slow per part, so
# a body of thousands of tiny parts is refused before it is parsed.
MAX_PARTS = 4


async def read_form_with_files(request: Request, *, max_bytes: int) -> dict[str, str]:
    """Each field's text (a file's content decoded as UTF-8), by field name."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != MULTIPART_TYPE:
        if content_type.split(";")[0].strip().lower() == FORM_TYPE:
            return await read_form(request, max_bytes=max_bytes)
        raise FormError(f"send the form as {MULTIPART_TYPE} or {FORM_TYPE}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise FormError("the form is too large")
    boundary = _boundary(content_type)
    if not boundary or body.count(b"--" + boundary) > MAX_PARTS + 1:
        raise FormError(f"the form must have at most {MAX_PARTS} parts, with a boundary")
    # Off the event loop: the MIME parser is slow, and nothing else of this process waits for it.
    return await run_in_threadpool(_fields, content_type, bytes(body))


def _boundary(content_type: str) -> bytes | None:
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "boundary" and value.strip().strip('"'):
            return value.strip().strip('"').encode("latin-1", "replace")
    return None


def _fields(content_type: str, body: bytes) -> dict[str, str]:
    message = BytesParser(policy=policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n" + body)
    if not isinstance(message, EmailMessage) or not message.is_multipart():
        raise FormError("the body is not a valid form")
    fields: dict[str, str] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        if name in fields:
            raise FormError(f"parameter(s) sent more than once: {name}")
        raw = part.get_payload(decode=True)
        try:
            fields[name] = raw.decode("utf-8") if isinstance(raw, bytes) else ""
        except UnicodeDecodeError:
            raise FormError(f"{name} is not UTF-8 text") from None
    return fields
