"""Reading a batch's body as lines: NDJSON or CSV, streamed, each line numbered as the sender counts it.

Line formats:
- NDJSON: one JSON object per line: ``{"type": "violation", "code": "<USCC>", "visibility": "public",
  ...the record's fields}``; ``type`` is organization, rating, violation, disclosure or list_entry
  (not ``kind``: disclosures have a field of that name).
- CSV: a header row naming the same keys; empty cells are absent; list fields (``penalty_types``,
  ``shared_with``, ``standards``) separate their items with ``;``; a spot check's ``failed_items``
  cell holds their JSON array (``[{"item": ..., "measured": ..., "required": ...}]``).
  UTF-8 (with or without BOM) or GB18030.
"""

import codecs
import csv
import json
import sys
from collections.abc import Iterable, Iterator
from typing import Any, Literal

Format = Literal["ndjson", "csv"]
MAX_LINE_BYTES = 64 * 1024
LIST_FIELDS = {"penalty_types", "shared_with", "standards"}  # CSV cells holding several items, separated by ';'
JSON_FIELDS = {"failed_items"}  # CSV cells holding a JSON array of objects


class LineRefused(Exception):
    """Why a line cannot be taken: unreadable, or not what its kind needs (``field`` names where)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message, self.field = message, field


Line = tuple[int, dict[str, Any] | LineRefused]  # (line number, its values or why it cannot be read)


def _physical_lines(chunks: Iterable[bytes]) -> Iterator[bytes | None]:
    """Lines of the body as bytes, without their line break; None for a line longer than
    MAX_LINE_BYTES (its carriage return and a BOM count). An over-long line is not held: its
    bytes are dropped up to its newline, and it is one line however the body arrived, so the
    numbers of the lines after it do not depend on how the network cut the stream. Splitting
    bytes at b"\\n" is safe for UTF-8 and GB18030: neither uses that byte inside a character."""
    pending = bytearray()  # appended to in place: a line sent a byte at a time stays linear
    skipping = False  # inside an over-long line, waiting for its newline
    for chunk in chunks:
        *complete, rest = chunk.split(b"\n")
        if complete:
            head = complete[0]
            if skipping:
                yield None
            else:
                yield bytes(pending) + head if len(pending) + len(head) <= MAX_LINE_BYTES else None
            yield from (line if len(line) <= MAX_LINE_BYTES else None for line in complete[1:])
            pending.clear()
            skipping = False
        if not skipping:
            if len(pending) + len(rest) > MAX_LINE_BYTES:
                pending.clear()
                skipping = True
            else:
                pending += rest
    if skipping:
        yield None
    elif pending:
        yield bytes(pending)


def _decoded(chunks: Iterable[bytes], encoding: str) -> Iterator[tuple[int, "str | LineRefused"]]:
    """(line number, text) from 1, or why the line cannot be read."""
    for number, raw in enumerate(_physical_lines(chunks), start=1):
        if raw is None:
            yield number, LineRefused(f"line longer than {MAX_LINE_BYTES} bytes")
            continue
        if number == 1 and raw.startswith(codecs.BOM_UTF8) and encoding == "utf-8":
            raw = raw[len(codecs.BOM_UTF8):]
        raw = raw.removesuffix(b"\r")
        try:
            yield number, raw.decode(encoding)
        except UnicodeDecodeError:
            yield number, LineRefused(f"the line is not valid {encoding} text")


def ndjson_lines(chunks: Iterable[bytes], encoding: str) -> Iterator[Line]:
    for number, text in _decoded(chunks, encoding):
        if isinstance(text, LineRefused):
            yield number, text
            continue
        if not text.strip():
            continue  # blank lines (a trailing newline) are not records
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            yield number, LineRefused(f"not a JSON object: {error.msg} at column {error.colno}")
            continue
        except ValueError:  # well-formed, but an integer longer than Python converts (its guard against slow parsing)
            yield number, LineRefused(f"a number has more than {sys.get_int_max_str_digits()} digits")
            continue
        yield number, value if isinstance(value, dict) else LineRefused("each line must be a JSON object")


def csv_lines(chunks: Iterable[bytes], encoding: str) -> Iterator[Line]:
    bad: dict[int, LineRefused] = {}

    def texts() -> Iterator[str]:
        for number, text in _decoded(chunks, encoding):
            if isinstance(text, LineRefused):
                bad[number] = text
                text = ""
            yield text + "\n"

    reader = csv.reader(texts())
    header: list[str] | None = None
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:  # e.g. a stray carriage return; the reader goes on with the next line
            yield reader.line_num, LineRefused(f"not a valid CSV line: {error}")
            continue
        number = reader.line_num
        if header is None:
            header = [name.strip() for name in row]
            if "type" not in header:
                yield number, LineRefused("the first row must name the columns, among them 'type'")
                return
            continue
        if number in bad:
            yield number, bad.pop(number)
            continue
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield number, LineRefused(f"{len(row)} cells where the header has {len(header)}")
            continue
        values = {name: ([item.strip() for item in cell.split(";") if item.strip()] if name in LIST_FIELDS
                         else cell)
                  for name, cell in zip(header, row, strict=True) if cell.strip() != ""}
        try:
            values.update({name: json.loads(str(values[name])) for name in JSON_FIELDS if name in values})
        except (ValueError, RecursionError):
            yield number, LineRefused("failed_items: a JSON array of {item, measured, required, unit}",
                                      field="failed_items")
            continue
        yield number, values
