"""Bulk push: a batch, its per-line results, and pages of them."""

from datetime import datetime
from typing import Literal, cast

from pydantic import BaseModel, Field

from db.tables import Batch, BatchLine
from service.batches import running

BatchStatus = Literal["running", "completed", "rejected"]

INLINE_RESULTS = 1000


class LineView(BaseModel):
    line: int
    outcome: Literal["accepted", "duplicate", "rejected"]
    kind: str | None
    record_id: str | None = Field(description="accepted: the new record")
    organization: str | None
    existing_id: str | None = Field(description="duplicate: the record already in the registry")
    field: str | None
    message: str | None

    @classmethod
    def of(cls, line: BatchLine) -> "LineView":
        return cls.model_validate(line, from_attributes=True)


class BatchView(BaseModel):
    id: str
    status: BatchStatus
    format: str
    atomic: bool
    lines: int = Field(description="Lines read (the number of the last one)")
    accepted: int
    duplicates: int
    rejected: int
    created_at: datetime
    finished_at: datetime | None
    results: list[LineView] = Field(description=f"The first {INLINE_RESULTS} line results (of an atomic batch "
                                                "that was refused: the failing lines)")
    results_url: str = Field(description="Every line's result, a page at a time")

    @classmethod
    def of(cls, batch: Batch, lines: list[BatchLine]) -> "BatchView":
        # Cut short is internal (whether its key may resume at once); to the caller the batch is
        # unfinished, which "running" has always meant.
        # The table holds these three and cut_short (mapped above), nothing else.
        status = cast(BatchStatus, "running" if batch.status == running.CUT_SHORT else batch.status)
        return cls(id=batch.id, status=status, format=batch.format, atomic=batch.atomic, lines=batch.lines,
                   accepted=batch.accepted, duplicates=batch.duplicates, rejected=batch.rejected,
                   created_at=batch.created_at, finished_at=batch.finished_at,
                   results=[LineView.of(line) for line in lines], results_url=f"/v1/batches/{batch.id}/results")


class LinePage(BaseModel):
    items: list[LineView]
    next_cursor: str | None
