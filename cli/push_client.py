"""``credit-registry push``: send a department's file to POST /v1/batches, batch by batch.

Each batch has an Idempotency-Key derived from the file's name, the batch's place and its bytes,
so a retry (a dropped connection, a 503, the whole command run again) is answered by the batch
already stored, or resumes it where it stopped, and never enters a record twice. Rejected and
duplicate lines are written to ``<file>.rejects.csv`` with the line number in the file, the field
and the reason.

An outage is ridden out: every request (the token, a batch, a page of results) is tried again,
after the registry's Retry-After when it gives one, until it has kept failing for the give-up
time. Exit codes: 0 every line accepted (duplicates are reported, not errors), 1 a line was
rejected, 2 the push gave up (the reason is printed), 3 bad usage.
"""

import csv
import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import partial
from pathlib import Path
from typing import Literal, TypedDict

import httpx

# Worth asking again: overload (429, 503), a proxy without its upstream (502, 504). A 409 on a
# batch means the same key is still being applied (or its request died and the server has not
# noticed yet): it is retried too, after the Retry-After the registry gives.
TRANSIENT = {429, 502, 503, 504}
GIVE_UP_AFTER = 600.0  # default: how long one request may keep failing before the push gives up
BACKOFF_CAP = 5.0  # without Retry-After (no connection): a restarted registry is noticed within this

# Told about each wait, once a second: (what is waited for, why, seconds left, seconds before giving up).
OnWait = Callable[[str, str, float, float], None]


class PushFailed(Exception):
    """The push stopped: the registry refused it as a whole (credentials, scope, media type), or
    stayed unavailable past the give-up time. The message says which."""


class LineResult(TypedDict):
    """One line's result as the registry answers it (LineView in the OpenAPI document)."""

    line: int
    outcome: Literal["accepted", "duplicate", "rejected"]
    kind: str | None
    record_id: str | None
    organization: str | None
    existing_id: str | None
    field: str | None
    message: str | None


class BatchResult(TypedDict):
    """A batch as the registry answers it (BatchView): its counts and its first line results."""

    id: str
    status: Literal["running", "completed", "rejected"]
    format: str
    atomic: bool
    lines: int
    accepted: int
    duplicates: int
    rejected: int
    created_at: str
    finished_at: str | None
    results: list[LineResult]
    results_url: str


class Problem(LineResult):
    """A line that was not accepted, with its place and text in the pushed file (the rejects file)."""

    file_line: int
    text: str


@dataclass
class Totals:
    lines: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class _Batch:
    index: int
    first_line: int  # the file line of the batch's first record line
    header: bytes  # CSV: the header row, sent with every batch; NDJSON: empty
    lines: list[bytes]

    @property
    def body(self) -> bytes:
        return self.header + b"".join(self.lines)


def format_of(path: Path, given: str | None) -> str:
    if given:
        return given
    return "csv" if path.suffix.lower() == ".csv" else "ndjson"


def count_lines(path: Path) -> int:
    with path.open("rb") as source:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: source.read(1 << 20), b""))


def batches(path: Path, *, format_: str, size: int) -> Iterator[_Batch]:
    """The file in batches of ``size`` lines. CSV batches repeat the header and never split a
    quoted cell that spans lines (a batch ends only where the quotes are balanced)."""
    with path.open("rb") as source:
        header = source.readline() if format_ == "csv" else b""
        number = 2 if header else 1
        lines: list[bytes] = []
        first, quotes, index = number, 0, 0
        for raw in source:
            lines.append(raw if raw.endswith(b"\n") else raw + b"\n")
            quotes += raw.count(b'"')
            number += 1
            if len(lines) >= size and quotes % 2 == 0:
                yield _Batch(index, first, header, lines)
                index, first, lines = index + 1, number, []
        if lines:
            yield _Batch(index, first, header, lines)


def retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds (RFC 9110: a number of seconds or an HTTP date), None if absent or unreadable."""
    value = response.headers.get("retry-after", "").strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError, IndexError):
        return None


def _why(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = {}
    title = body.get("title") if isinstance(body, dict) else None
    return f"{response.status_code} {title or response.reason_phrase}"


class Pusher:
    def __init__(self, url: str, client_id: str, client_secret: str, *, timeout: float = 600.0,
                 give_up_after: float = GIVE_UP_AFTER, on_wait: OnWait | None = None) -> None:
        self.url = url.rstrip("/")
        self.credentials = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
        self.http = httpx.Client(timeout=httpx.Timeout(timeout, connect=10.0), trust_env=False)
        self.give_up_after, self.on_wait = give_up_after, on_wait
        self._token, self._token_until = "", 0.0

    def close(self) -> None:
        self.http.close()

    def _call(self, what: str, attempt: Callable[[], httpx.Response], *, in_progress_is_transient: bool = False,
              authorized: bool = True) -> httpx.Response:
        """``attempt`` until it gets an answer that is not transient, waiting between tries as long
        as the registry's Retry-After says (else backing off up to BACKOFF_CAP). Gives up once the
        next try would start more than give_up_after after the first failure."""
        failed_since: float | None = None
        tries, renewed = 0, False
        while True:
            told: float | None = None
            try:
                response = attempt()
            except httpx.TransportError as error:
                reason = f"no answer ({type(error).__name__})"
            else:
                if response.status_code == 401 and authorized and not renewed:
                    # A token refused mid-push (the registry's keys rotated): one new token, once.
                    self._token_until, renewed = 0.0, True
                    continue
                transient = response.status_code in TRANSIENT or (in_progress_is_transient and
                                                                  response.status_code == 409)
                if not transient:
                    return response
                reason, told = _why(response), retry_after(response)
            now = time.monotonic()
            failed_since = now if failed_since is None else failed_since
            left = failed_since + self.give_up_after - now
            wait = told if told is not None else min(BACKOFF_CAP, 0.5 * 2 ** tries)
            tries += 1
            if left <= 0 or (told is not None and told > left):
                asked = f"; the registry asks to wait {told:g} s more" if told is not None else ""
                raise PushFailed(f"{what}: gave up after {now - failed_since:.0f} s of {reason} "
                                 f"(--give-up-after {self.give_up_after:g}){asked}")
            self._wait(what, reason, min(wait, left), left)

    def _wait(self, what: str, reason: str, seconds: float, left: float) -> None:
        until = time.monotonic() + seconds
        while (remaining := until - time.monotonic()) > 0:
            if self.on_wait is not None:
                self.on_wait(what, reason, remaining, left - (seconds - remaining))
            time.sleep(min(1.0, remaining))

    def _headers(self) -> dict[str, str]:
        if time.monotonic() > self._token_until - 60:
            response = self._call("token", lambda: self.http.post(f"{self.url}/v1/auth/token", data=self.credentials),
                                  authorized=False)
            if response.status_code != 200:
                raise PushFailed(f"no token: {response.status_code} {response.text[:300]}")
            body = response.json()
            self._token, self._token_until = body["access_token"], time.monotonic() + body["expires_in"]
        return {"Authorization": f"Bearer {self._token}"}

    def send(self, batch: _Batch, *, source: Path, content_type: str, atomic: bool) -> BatchResult:
        digest = hashlib.sha256(batch.body).hexdigest()[:32]
        key = f"push-{hashlib.sha256(source.name.encode()).hexdigest()[:8]}-{batch.index}-{digest}"

        def attempt() -> httpx.Response:
            return self.http.post(f"{self.url}/v1/batches", content=batch.body,
                                  params={"atomic": "true"} if atomic else None,
                                  headers=self._headers() | {"content-type": content_type, "idempotency-key": key})

        # The same key on every try: a batch cut short resumes after its last stored line.
        response = self._call(f"batch {batch.index + 1}", attempt, in_progress_is_transient=True)
        if response.status_code == 200 or (response.status_code == 422 and "batch" in response.text[:20000]):
            body = response.json()
            result: BatchResult = body.get("batch", body)  # a refused atomic batch comes inside the problem
            return result
        raise PushFailed(f"batch {batch.index + 1}: {response.status_code} {response.text[:500]}")

    def problems(self, result: BatchResult) -> list[LineResult]:
        """Every line of a batch that was not accepted (its inline results, then the pages after)."""
        inline = [r for r in result["results"] if r["outcome"] != "accepted"]
        if result["status"] == "rejected" or len(result["results"]) >= result["lines"]:
            return inline
        found: list[LineResult] = []
        for outcome in ("duplicate", "rejected"):
            cursor = None
            while True:
                params = {"outcome": outcome, "limit": 200} | ({"cursor": cursor} if cursor else {})
                page = self._call(f"results of batch {result['id']}",
                                  partial(self._results_page, result["results_url"], params))
                if page.status_code != 200:
                    raise PushFailed(f"results of batch {result['id']}: {page.status_code} {page.text[:300]}")
                found += page.json()["items"]
                cursor = page.json()["next_cursor"]
                if cursor is None:
                    break
        return sorted(found, key=lambda r: r["line"])

    def _results_page(self, path: str, params: dict[str, str | int]) -> httpx.Response:
        return self.http.get(f"{self.url}{path}", headers=self._headers(), params=params)


def write_rejects(path: Path, problems: list[Problem]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["file_line", "outcome", "field", "message", "existing_id", "line"])
        for problem in problems:
            writer.writerow([problem["file_line"], problem["outcome"], problem.get("field") or "",
                             problem.get("message") or "", problem.get("existing_id") or "", problem["text"]])


def file_line(batch: _Batch, result_line: int) -> int:
    """The batch's line number (CSV: counting the repeated header) as the file's line number."""
    return batch.first_line + result_line - (2 if batch.header else 1)


def problem_of(batch: _Batch, result: LineResult, encoding: str) -> Problem:
    """``result`` placed in the file: its line number there and the line's text."""
    return {**result, "file_line": file_line(batch, result["line"]), "text": text_of(batch, result["line"], encoding)}


def text_of(batch: _Batch, result_line: int, encoding: str) -> str:
    offset = result_line - (2 if batch.header else 1)
    raw = batch.lines[offset] if 0 <= offset < len(batch.lines) else b""
    return raw.decode(encoding, errors="replace").removeprefix("\ufeff").rstrip("\r\n")
