"""``credit-registry push``: send a department's file to POST /v1/batches, batch by batch.

Each batch has an Idempotency-Key derived from the file's name, the batch's place and its bytes,
so a retry (a dropped connection, a 503, the whole command run again) is answered by the batch
already stored, or resumes it where it stopped, and never enters a record twice. Rejected and
duplicate lines are written to ``<file>.rejects.csv`` with the line number in the file, the field
and the reason; the command exits 1 when a line was rejected.
"""

import csv
import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

TRANSIENT = {429, 502, 503, 504}
ATTEMPTS = 6


class PushFailed(Exception):
    """The registry refused the push as a whole (credentials, scope, media type)."""


@dataclass
class Totals:
    lines: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    problems: list[dict] = field(default_factory=list)


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


class Pusher:
    def __init__(self, url: str, client_id: str, client_secret: str, *, timeout: float = 600.0) -> None:
        self.url = url.rstrip("/")
        self.credentials = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
        self.http = httpx.Client(timeout=httpx.Timeout(timeout, connect=10.0), trust_env=False)
        self._token, self._token_until = "", 0.0

    def close(self) -> None:
        self.http.close()

    def _headers(self) -> dict[str, str]:
        if time.monotonic() > self._token_until - 60:
            response = self.http.post(f"{self.url}/v1/auth/token", data=self.credentials)
            if response.status_code != 200:
                raise PushFailed(f"no token: {response.status_code} {response.text[:300]}")
            body = response.json()
            self._token, self._token_until = body["access_token"], time.monotonic() + body["expires_in"]
        return {"Authorization": f"Bearer {self._token}"}

    def send(self, batch: _Batch, *, source: Path, content_type: str, atomic: bool) -> dict:
        digest = hashlib.sha256(batch.body).hexdigest()[:32]
        key = f"push-{hashlib.sha256(source.name.encode()).hexdigest()[:8]}-{batch.index}-{digest}"
        for attempt in range(ATTEMPTS):
            try:
                response = self.http.post(f"{self.url}/v1/batches", content=batch.body,
                                          params={"atomic": "true"} if atomic else None,
                                          headers=self._headers() | {"content-type": content_type,
                                                                     "idempotency-key": key})
            except httpx.TransportError:
                response = None
            if response is not None and (response.status_code == 200 or
                                         (response.status_code == 422 and "batch" in response.text[:20000])):
                body = response.json()
                return body.get("batch", body)
            if response is not None and response.status_code not in TRANSIENT | {409}:
                raise PushFailed(f"batch {batch.index + 1}: {response.status_code} {response.text[:500]}")
            time.sleep(min(30.0, 0.5 * 2 ** attempt))  # transient, or still being applied: the same key again
        raise PushFailed(f"batch {batch.index + 1}: no answer after {ATTEMPTS} attempts")

    def problems(self, result: dict) -> list[dict]:
        """Every line of a batch that was not accepted (its inline results, then the pages after)."""
        inline = [r for r in result["results"] if r["outcome"] != "accepted"]
        if result["status"] == "rejected" or len(result["results"]) >= result["lines"]:
            return inline
        found: list[dict] = []
        for outcome in ("duplicate", "rejected"):
            cursor = None
            while True:
                page = self.http.get(f"{self.url}{result['results_url']}", headers=self._headers(),
                                     params={"outcome": outcome, "limit": 200} | ({"cursor": cursor} if cursor else {}))
                page.raise_for_status()
                found += page.json()["items"]
                cursor = page.json()["next_cursor"]
                if cursor is None:
                    break
        return sorted(found, key=lambda r: r["line"])


def write_rejects(path: Path, problems: list[dict]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["file_line", "outcome", "field", "message", "existing_id", "line"])
        for problem in problems:
            writer.writerow([problem["file_line"], problem["outcome"], problem.get("field") or "",
                             problem.get("message") or "", problem.get("existing_id") or "", problem["text"]])


def file_line(batch: _Batch, result_line: int) -> int:
    """The batch's line number (CSV: counting the repeated header) as the file's line number."""
    return batch.first_line + result_line - (2 if batch.header else 1)


def text_of(batch: _Batch, result_line: int, encoding: str) -> str:
    offset = result_line - (2 if batch.header else 1)
    raw = batch.lines[offset] if 0 <= offset < len(batch.lines) else b""
    return raw.decode(encoding, errors="replace").removeprefix("\ufeff").rstrip("\r\n")
