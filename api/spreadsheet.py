"""CSV for spreadsheets: cells that a spreadsheet cannot mistake for a formula; and the public
exports (lists, spot checks) streamed as CSV or NDJSON."""

import csv
import io
import json
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict
from typing import Any, Literal

from fastapi.responses import StreamingResponse

_FORMULA_START = ("=", "+", "-", "@")
_CONTROL_START = ("\t", "\r", "\n")


def spreadsheet_cell(value: object) -> str:
    """Text as a spreadsheet will show it: a leading =, +, -, @ would be run as a formula
    (CSV injection), so such cells get an apostrophe, which spreadsheets display as text.

    Spreadsheets and input methods in Chinese locales may take the full-width and small forms
    (＝＋－＠, ﹦﹢﹣﹫) for the ASCII ones, and import options that trim cells drop leading
    spaces (ideographic ones too): NFKC folds those forms to ASCII, and the first character that
    is not a space is the one checked. (defusedcsv checks ASCII only, and rewrites ``|`` in data.)"""
    text = "" if value is None else str(value)
    first = unicodedata.normalize("NFKC", text.lstrip()[:1])
    return "'" + text if text.startswith(_CONTROL_START) or first.startswith(_FORMULA_START) else text


def _csv_lines(rows: Iterable[Any], header: Sequence[str], cell: Callable[[Any], Any]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # excel dialect: CRLF rows, quotes where needed
    writer.writerow(header)
    yield "\ufeff" + buffer.getvalue()  # BOM: spreadsheet software then reads the file as UTF-8
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([spreadsheet_cell(cell(value)) for value in asdict(row).values()])
        yield buffer.getvalue()


def _ndjson_lines(rows: Iterable[Any]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(asdict(row), ensure_ascii=False, default=str) + "\n"


def streamed_export(rows: Iterable[Any], *, format: Literal["csv", "ndjson"], header: Sequence[str], filename: str,
                    cell: Callable[[Any], Any]) -> StreamingResponse:
    """Rows (dataclasses) as a download, streamed: memory stays flat whatever their number. CSV is
    UTF-8 with a BOM, each value turned into a cell by ``cell`` and then guarded against formulas."""
    lines, media = (_csv_lines(rows, header, cell), "text/csv; charset=utf-8") if format == "csv" \
        else (_ndjson_lines(rows), "application/x-ndjson")
    return StreamingResponse(lines, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
