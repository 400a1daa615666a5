"""What the suite's servers answer the public and what they log, for the scans at the end of the
session (tests/conftest.py): public answers for personal data, log lines for secrets.

In-process apps get ``PublicBodies`` from the ``app`` fixture. A server the suite starts as a
process (tests/live_server.py, tests/crash_harness.py) serves ``recorded_app``: the same app with
the same recorder, which appends each public answer as a JSON line to a file of the session's
traffic directory; its stdout and stderr go to a log file beside it (``log_file``). Whoever reads
from it, httpx or Chromium, what it answered is recorded where it was sent. conftest names the
directory in the environment, so every process started from the suite inherits it; outside
pytest (``python -m tests.crash_harness``) there is none and nothing is recorded.
"""

import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from starlette.types import ASGIApp, Message, Receive, Scope, Send

TRAFFIC_DIR = "TESTS_LIVE_TRAFFIC_DIR"
INNER_FACTORY = "TESTS_LIVE_APP_FACTORY"  # what recorded_app wraps (crash_harness's defective builds)
RECORDED_APP = "tests.live_traffic:recorded_app"

# Secrets by their shape: client secrets, webhook secrets, tokens, keys. The session's logs are
# searched for them (tests/conftest.py), and so are the logs of `make overload` (bench/overload.py).
SECRET_SHAPES = re.compile(r"crs_[A-Za-z0-9_-]{16,}|whsec_[A-Za-z0-9+/=]{16,}|eyJ[A-Za-z0-9_-]{8,}\.eyJ|"
                           r"PRIVATE KEY|Bearer [A-Za-z0-9._-]{16,}")


class PublicBodies:
    """ASGI middleware: ``sink(path, body)`` for the body of every answer on a public path."""

    def __init__(self, app: ASGIApp, *, sink: Callable[[str, str], None]) -> None:
        self.app, self.sink = app, sink

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        from api.middleware.public_paths import is_public

        if scope["type"] != "http" or not is_public(scope["path"]) or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def record(message: Message) -> None:
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    self.sink(scope["path"], b"".join(chunks).decode("utf-8", "replace"))
            await send(message)

        await self.app(scope, receive, record)


def _directory() -> Path | None:
    folder = os.environ.get(TRAFFIC_DIR)
    return Path(folder) if folder else None


def recorded_app():
    """uvicorn's factory for the suite's servers: the app of ``INNER_FACTORY`` (the real one by
    default), its public answers recorded when the session has a traffic directory."""
    from uvicorn.importer import import_from_string

    app = import_from_string(os.environ.get(INNER_FACTORY, "api.app:create_app"))()
    folder = _directory()
    if folder is not None:
        answers = open(folder / f"answers-{os.getpid()}.ndjson", "a", encoding="utf-8")  # noqa: SIM115 (the process's life)

        def write(path: str, body: str) -> None:
            # One line per answer, flushed at once: a server killed with SIGKILL loses none it sent.
            answers.write(json.dumps([path, body], ensure_ascii=False) + "\n")
            answers.flush()

        app.add_middleware(PublicBodies, sink=write)
    return app


def log_file(label: str) -> IO[bytes]:
    """Where a server process the suite starts writes its stdout and stderr: a new file in the
    traffic directory (nowhere outside pytest). Open it around ``Popen``; the child keeps its own copy."""
    folder = _directory()
    if folder is None:
        return open(os.devnull, "wb")
    descriptor, path = tempfile.mkstemp(prefix=f"{label}-", suffix=".log", dir=folder)
    os.close(descriptor)
    return open(path, "wb")  # named: a server that does not start is explained from it


def answers() -> Iterator[tuple[str, str]]:
    """(path, body) of every public answer the session's server processes recorded so far."""
    folder = _directory()
    for path in sorted(folder.glob("answers-*.ndjson")) if folder else ():
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                recorded_path, body = json.loads(line)
            except ValueError:  # the last line of a process killed while writing it
                recorded_path, body = path.name, line
            yield recorded_path, body


def log_lines() -> Iterator[str]:
    """Every line the session's server processes wrote to their stdout and stderr, after the name
    of its file (which says which kind of server wrote it)."""
    folder = _directory()
    for path in sorted(folder.glob("*.log")) if folder else ():
        yield from (f"{path.name}: {line}" for line in path.read_text(encoding="utf-8", errors="replace").splitlines())
