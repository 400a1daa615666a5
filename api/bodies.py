"""Request bodies read a piece at a time, for routes that hand them to a worker thread: streamed
to the thread as it asks, or read whole first and spooled (in memory, then on disk)."""

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from functools import partial
from tempfile import SpooledTemporaryFile

import anyio.from_thread

from service.batches.reading import Format

# A body read in full before it is used: in memory up to this, then on disk.
SPOOL_IN_MEMORY_BYTES = 8 * 1024 * 1024
SPOOL_READ_BYTES = 256 * 1024

# Line formats a bulk push may be sent in, and the character sets each may come in.
LINE_FORMATS: dict[str, Format] = {"application/x-ndjson": "ndjson", "application/ndjson": "ndjson", "text/csv": "csv"}
ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "gb18030": "gb18030", "gbk": "gb18030", "gb2312": "gb18030"}


def line_format(content_type: str | None) -> tuple[Format, str] | None:
    """The line format (ndjson, csv) and encoding a Content-Type names; None if either is not taken."""
    media, _, parameters = (content_type or "").partition(";")
    format_ = LINE_FORMATS.get(media.strip().lower())
    charset = "utf-8"
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    encoding = ENCODINGS.get(charset)
    return (format_, encoding) if format_ and encoding else None


def streamed_to_thread(body: AsyncIterator[bytes]) -> Iterator[bytes]:
    """The body for a worker thread: each piece read from the event loop when the thread asks for it."""
    async def next_piece() -> bytes:
        return await anext(body)

    while True:
        try:
            yield anyio.from_thread.run(next_piece)
        except StopAsyncIteration:
            return


@asynccontextmanager
async def spooled(body: AsyncIterator[bytes]) -> AsyncIterator[Iterator[bytes]]:
    """The whole body read in the event loop first, then handed out in pieces from the spool (for
    a worker that must not wait on a slow sender while it holds something others need)."""
    with SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES) as spool:
        async for piece in body:
            spool.write(piece)
        spool.seek(0)
        yield iter(partial(spool.read, SPOOL_READ_BYTES), b"")


async def drain(body: AsyncIterator[bytes]) -> None:
    """Read what is left of the body (what the worker did not need) before answering."""
    async for _ in body:
        pass
