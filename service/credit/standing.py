"""What the registry says of an organization's credit on a date, with its consequences: the lists
it is on, its grade, its supervision class and the measures that apply (守信激励、失信惩戒).

The credit check, the bulk check and the signed report all answer from a ``Standing``. Which
records count is the viewer's visibility (``db.repositories.records.visible_to``); ``viewer=None``
is the public's view (public records only), the one a report and a credit-checking system get.
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

Direction = Literal["incentive", "punishment"]
TriggerKind = Literal["black_list", "red_list", "supervision_class", "serious_violation", "grade"]


@dataclass(frozen=True)
class GradeOnDate:
    scheme: str
    scheme_version: int | None
    grade: str
    label_zh: str | None
    label_en: str | None
    record_id: str


@dataclass(frozen=True)
class Supervision:
    """The supervision class (分类监管) and why: A trusted, B ordinary, C watched, D strictly supervised."""

    code: str
    name_zh: str
    name_en: str
    inspections_per_year: float
    reason: str  # black_list, red_list, grade, unrated
    record_id: str | None = None


@dataclass(frozen=True)
class Trigger:
    kind: TriggerKind
    record_id: str | None = None
    record_version: int | None = None


@dataclass(frozen=True)
class AppliedMeasure:
    code: str
    name_zh: str
    name_en: str
    direction: Direction
    basis: str
    applied_by: tuple[str, ...]  # department kinds
    trigger: Trigger
    ends_on: date | None  # first day it no longer applies; None: while the trigger holds
    catalogue_version: int


@dataclass(frozen=True)
class StandingRecord:
    """A record as the standing counted it: public summary only (masked), never the details."""

    id: str
    kind: str
    version: int
    status: str
    effective_on: date
    ends_on: date | None
    department: str
    summary: dict[str, Any]


@dataclass(frozen=True)
class Standing:
    code: str
    name: str
    as_of: date
    black_listed: bool
    red_listed: bool
    grade: GradeOnDate | None
    supervision: Supervision
    measures: list[AppliedMeasure]
    active_violations: int
    records: list[StandingRecord] = field(default_factory=list)
