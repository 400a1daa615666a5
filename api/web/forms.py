"""application/x-www-form-urlencoded bodies, read with a size cap (no multipart dependency)."""

from urllib.parse import parse_qs

from fastapi import Request


class FormError(Exception):
    """The body is not an acceptable form; the message says why."""


FORM_TYPE = "application/x-www-form-urlencoded"


async def read_form(request: Request, *, max_bytes: int) -> dict[str, str]:
    if request.headers.get("content-type", "").split(";")[0].strip() != FORM_TYPE:
        raise FormError(f"send the form as {FORM_TYPE}")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise FormError("the form is too large")
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError) as error:
        raise FormError("the body is not a valid form") from error
    repeated = sorted(k for k, v in parsed.items() if len(v) > 1)
    if repeated:
        raise FormError(f"parameter(s) sent more than once: {', '.join(repeated)}")
    return {k: v[0] for k, v in parsed.items()}
