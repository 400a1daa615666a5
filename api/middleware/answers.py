"""Answers sent straight from middleware, before any route runs.

Here rather than in api/problems.py, which takes its Retry-After from api/middleware/overload.py:
the overload refusal sending through api/problems.py would make the two import each other.
"""

import json

from starlette.types import Send


async def send_problem(send: Send, status: int, title: str, type_: str, detail: str,
                       headers: list[tuple[bytes, bytes]]) -> None:
    """A problem+json answer sent straight from middleware, before any route runs."""
    body = json.dumps({"type": type_, "title": title, "status": status, "detail": detail}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})
