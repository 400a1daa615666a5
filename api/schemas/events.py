"""The change feed: the envelope every event travels in, and a page of them."""

from typing import Any

from pydantic import BaseModel, Field


class EventEnvelope(BaseModel):
    id: str = Field(examples=["evt_01JD3S8W4ZQ9Y3M7V6K2T1R0PA"])
    type: str = Field(examples=["list_entry.added"])
    timestamp: str = Field(examples=["2026-06-15T02:00:00Z"])
    seq: int
    data: dict[str, Any]


class EventPage(BaseModel):
    data: list[EventEnvelope]
    next_cursor: str = Field(description="Ask again with after=<this>; never goes backwards")
    has_more: bool
