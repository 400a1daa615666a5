"""Deadline rules (domain.md §4) as a named, versioned rule set.

The defaults below are published as rule set ``default`` version 1. Each record stores the id of
the rule set it was decided under, so a later rule change never rewrites an old decision.
"""

import calendar
from collections.abc import Sequence
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.rules.parsed import parsed

DEFAULT_RULE_SET_NAME = "default"


class Window(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_months: int = Field(ge=0, le=120)
    max_months: int = Field(ge=0, le=120)

    @model_validator(mode="after")
    def _ordered(self) -> "Window":
        if self.min_months > self.max_months:
            raise ValueError(f"min_months ({self.min_months}) is more than max_months ({self.max_months})")
        return self


class Rules(BaseModel):
    """What a rule set decides. Months, not days: the regulations count in months and years."""

    model_config = ConfigDict(extra="forbid")

    # SAMR Order 45 / NDRC Order 36: publicity of administrative penalties by severity.
    violation_publicity: dict[str, Window] = {
        "minor": Window(min_months=0, max_months=3),
        "general": Window(min_months=3, max_months=12),
        "serious": Window(min_months=12, max_months=36),
    }
    # Warning-only penalties are not published at all.
    publish_warning_only: bool = False
    # SAMR Order 44: black list term 3 years, early removal after at least 1 year.
    black_list_term_months: int = Field(default=36, ge=1, le=120)
    black_list_min_months: int = Field(default=12, ge=0, le=120)
    # A red-list decision without its own end date is valid this long (our default; configurable).
    red_list_term_months: int = Field(default=36, ge=1, le=120)
    # Red-list eligibility: no serious violation decided in this many years before the entry takes
    # effect (0: no such condition). A black entry in force always excludes a red one (domain.md §4).
    red_list_clean_years: int = Field(default=3, ge=0, le=20)
    objection_deadline_days: int = Field(default=20, ge=1, le=365)
    # Pending objections one record takes from the public: past it the department is reviewing
    # the record already, and the channel is not a way to flood its queue.
    objection_pending_cap: int = Field(default=20, ge=1, le=1000)
    # Penalties after which credit repair (early stop of publicity) is not available.
    non_repairable_penalties: list[str] = ["licence_revocation", "stop_production", "business_closure"]
    # The supervision class (分类监管) of an organization with no rating in force and on no list.
    unrated_supervision_class: Literal["A", "B", "C", "D"] = "B"
    # Complaints (投诉举报), SAMR Order 20 (市场监督管理投诉举报处理暂行办法, 2019): accept or refuse
    # within 7 working days of receipt (art. 18); mediation ends within 45 working days of acceptance
    # (art. 34), about 60 calendar days. Counted here in calendar days (no holiday calendar), so the
    # acceptance deadline falls earlier than the order's, never later.
    complaint_acceptance_days: int = Field(default=7, ge=1, le=365)
    complaint_resolution_days: int = Field(default=60, ge=1, le=730)


    @model_validator(mode="after")
    def _complete(self) -> "Rules":
        if set(self.violation_publicity) != {"minor", "general", "serious"}:
            raise ValueError("violation_publicity needs exactly the severities minor, general and serious")
        if self.black_list_min_months > self.black_list_term_months:
            raise ValueError("black_list_min_months is more than black_list_term_months")
        return self


DEFAULT_RULES = Rules()


def rules_from_json(data: dict[str, Any]) -> Rules:
    return parsed(Rules, data)


def add_months(start: date, months: int) -> date:
    """Calendar months, clamped to the month's last day (2024-02-29 + 12 months = 2025-02-28)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def violation_publicity_until(
    rules: Rules, *, severity: str, decided_on: date, penalty_types: Sequence[str]
) -> date:
    """The last day + 1 on which a violation may be shown: publicity stops at the maximum window.

    A warning-only penalty (when the rule set does not publish them) ends the day it starts,
    so it is never public.
    """
    if list(penalty_types) == ["warning"] and not rules.publish_warning_only:
        return decided_on
    return add_months(decided_on, rules.violation_publicity[severity].max_months)


def list_entry_expires_on(rules: Rules, *, list_name: str, effective_on: date) -> date:
    months = rules.black_list_term_months if list_name == "black" else rules.red_list_term_months
    return add_months(effective_on, months)
