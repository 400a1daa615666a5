"""The fields of each record kind (domain.md §3), validated once here for every entry path
(single writes, corrections, bulk push, demo data).

``PUBLIC_FIELDS`` names, per kind, the summary fields the public may see; everything else
(internal notes, contacts) stays with the departments.
"""

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationInfo,
    field_validator,
    model_validator,
)

from service import codes
from service.errors import InvalidCode
from service.records.personal_data import mask, mask_fields
from service.rules.clock import not_a_number

Visibility = Literal["public", "shared", "restricted"]
# The kinds of record, named once: the API's models, the batch lines and the events take them from here.
Kind = Literal["rating", "violation", "disclosure", "list_entry", "inspection"]
DepartmentCode = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")]
Severity = Literal["minor", "general", "serious"]
ListName = Literal["red", "black"]
PenaltyType = Literal[
    "warning",
    "fine",
    "confiscation",
    "suspension",
    "licence_revocation",
    "stop_production",
    "business_closure",
    "other",
]
DisclosureKind = Literal["quality_credit_report", "standard_declaration", "recall", "commitment"]

# Dates a registry can hold: nothing before the PRC's first codes, nothing absurdly far ahead.
EARLIEST, LATEST = date(1949, 10, 1), date(2199, 12, 31)
RegistryDate = Annotated[date, Field(ge=EARLIEST, le=LATEST), BeforeValidator(not_a_number)]


# What no database of ours stores as it was sent: NUL (PostgreSQL refuses it in text; SQLite keeps
# it, so the two would differ), the other control characters, and lone surrogates (half of a
# UTF-16 pair, which a JSON "\\ud800" escape can carry: not text, with no UTF-8 form, so neither
# driver can send it). Line breaks and tabs are fine.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# Unicode's invisible format characters (category Cf: zero-width space and joiners, bidirectional
# overrides, the BOM...), as of Python 3.11's Unicode 14. They make a decision number that looks
# like another slip past the duplicate check, and bidi overrides make text read backwards.
# tests/test_bad_input.py checks this list against unicodedata.
INVISIBLE_RANGES = ((0xAD, 0xAD), (0x600, 0x605), (0x61C, 0x61C), (0x6DD, 0x6DD), (0x70F, 0x70F), (0x890, 0x891),
                    (0x8E2, 0x8E2), (0x180E, 0x180E), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x2064),
                    (0x2066, 0x206F), (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD), (0x110CD, 0x110CD),
                    (0x13430, 0x13438), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0001, 0xE0001),
                    (0xE0020, 0xE007F))
_INVISIBLE = re.compile("[" + "".join(f"{chr(a)}-{chr(b)}" for a, b in INVISIBLE_RANGES) + "]")


def unstorable(text: str) -> str | None:
    """Why the text cannot be stored as sent, or None."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    if "\ud800" <= found.group() <= "\udfff":
        return "lone surrogates (U+D800 to U+DFFF) are not text and cannot be stored"
    return "control characters are not allowed in text"


def storable(text: str) -> str:
    """The text with what cannot be stored written as escapes (``\\u0000``): for the registry's
    own messages about input, which must be storable themselves."""
    return _UNSTORABLE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)


class StorableFields(BaseModel):
    """Fields of which every text, whatever its type (a grade, a list of department codes, a URL,
    a name that must be one of a few words), is refused before it reaches the database when it
    holds what the database cannot store: a line of a batch is then rejected naming its field,
    instead of the database refusing the statement of a whole chunk."""

    @field_validator("*", mode="before")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        for text in _strings(value):
            reason = unstorable(text)
            if reason is not None:
                raise ValueError(reason)
        return value


def _no_control_characters(text: str) -> str:
    # NUL and other control characters are never meant in a name or a decision, render as
    # nothing, and PostgreSQL cannot store NUL at all; line breaks and tabs are fine.
    reason = unstorable(text)
    if reason is not None:
        raise ValueError(reason)
    invisible = _INVISIBLE.search(text)
    if invisible:
        raise ValueError(f"invisible formatting characters (U+{ord(invisible.group()):04X}) are not allowed in text")
    return text


# What a person or a department writes is bounded, then refused if it holds control or invisible
# characters; each kind of text spells both: ``Annotated[str, Field(max_length=...), Readable]``.
Readable = AfterValidator(_no_control_characters)

ShortText = Annotated[str, Field(min_length=1, max_length=200), Readable]
# As long as their columns: longer ones were refused by PostgreSQL (a 500 or a stuck line), not by us.
DecisionNumber = Annotated[str, Field(min_length=1, max_length=100), Readable]
SchemeCode = Annotated[str, Field(min_length=1, max_length=32), Readable]
Grade = Annotated[str, Field(min_length=1, max_length=8), Readable]
LongText = Annotated[str, Field(min_length=1, max_length=4000), Readable]


class RecordFields(StorableFields):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    internal_notes: LongText | None = Field(
        default=None, description="Seen by departments only, never public."
    )


class RatingFields(RecordFields):
    scheme: SchemeCode = Field(default="default", examples=["default"])
    grade: Grade = Field(examples=["AA"])
    score: Decimal | None = Field(default=None, ge=0, le=1000, decimal_places=2, examples=["88.5"])
    standard: ShortText | None = Field(default=None, examples=["GB/T 31863-2015"])
    evaluated_on: RegistryDate
    valid_until: RegistryDate | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> "RatingFields":
        if self.valid_until is not None and self.valid_until <= self.evaluated_on:
            raise ValueError("valid_until must be after evaluated_on")
        return self


class ViolationFields(RecordFields):
    decision_no: DecisionNumber = Field(examples=["深市监罚〔2025〕123号"])
    decided_on: RegistryDate
    authority: ShortText = Field(examples=["深圳市市场监督管理局"])
    category: ShortText = Field(description="Violation type", examples=["产品质量不合格"])
    legal_basis: ShortText = Field(examples=["《中华人民共和国产品质量法》第四十九条"])
    penalty: LongText = Field(examples=["警告，罚款人民币5万元"])
    penalty_types: list[PenaltyType] = Field(min_length=1, examples=[["warning", "fine"]])
    severity: Severity
    fine_amount: Decimal | None = Field(default=None, ge=0, le=10**13, decimal_places=2)

    @model_validator(mode="after")
    def _fine_matches_penalty(self) -> "ViolationFields":
        if len(set(self.penalty_types)) != len(self.penalty_types):
            raise ValueError("penalty_types lists a penalty twice")
        if self.fine_amount and "fine" not in self.penalty_types:
            raise ValueError("fine_amount is set but penalty_types has no 'fine'")
        return self


class DisclosureFields(RecordFields):
    kind: DisclosureKind
    title: ShortText
    url: HttpUrl | None = None
    body: LongText | None = None
    published_on: RegistryDate

    @model_validator(mode="after")
    def _has_content(self) -> "DisclosureFields":
        if self.url is None and self.body is None:
            raise ValueError("a disclosure needs a url or a body")
        return self


class ListEntryFields(RecordFields):
    list: ListName
    reason: LongText
    legal_basis: ShortText
    decision_no: DecisionNumber
    effective_on: RegistryDate
    expires_on: RegistryDate | None = Field(
        default=None, description="Defaults to the rule set's term for the list (black: 3 years)."
    )

    @model_validator(mode="after")
    def _dates_in_order(self) -> "ListEntryFields":
        if self.expires_on is not None and self.expires_on <= self.effective_on:
            raise ValueError("expires_on must be after effective_on")
        return self


PlanLevel = Literal["national", "provincial", "city", "county"]
InspectionResult = Literal["pass", "fail"]


class FailedItem(StorableFields):
    """One tested property a product failed: what was measured against what the standard requires."""

    # Laboratories' systems send a measured value as a JSON number as often as as text ("4.12").
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, coerce_numbers_to_str=True)

    item: ShortText = Field(examples=["导体电阻"])
    measured: ShortText = Field(examples=["4.12"])
    required: ShortText = Field(examples=["≤3.08"])
    unit: ShortText | None = Field(default=None, examples=["Ω/km"])


class InspectionFields(RecordFields):
    """A spot-check result (监督抽查): the producer is the record's organization and ``published_on``
    its effective date. The fields are declared in the order they are checked, so each check
    across fields (dates in order, failed items against the result) is reported on its own field."""

    product_name: ShortText = Field(examples=["聚氯乙烯绝缘电缆"])
    brand: ShortText | None = Field(default=None, examples=["熊猫"])
    model: ShortText | None = Field(default=None, description="Model or specification (规格型号)",
                                    examples=["BV 450/750V 2.5mm²"])
    batch: ShortText | None = Field(default=None, description="Batch number", examples=["20260315"])
    produced_on: RegistryDate | None = None
    product_category: ShortText = Field(examples=["电线电缆"])
    seller_uscc: str | None = Field(default=None, max_length=64,
                                    description="The seller's USCC when the sample was bought from one")
    authority: ShortText = Field(description="Sampling authority", examples=["广东省市场监督管理局"])
    plan_level: PlanLevel
    plan_no: DecisionNumber = Field(examples=["粤市监抽〔2026〕12号"])
    report_no: DecisionNumber = Field(description="The test report's number: a department enters it once",
                                      examples=["GDJ2026-0315"])
    testing_body: ShortText = Field(examples=["广东产品质量监督检验研究院"])
    standards: list[ShortText] = Field(min_length=1, max_length=20, examples=[["GB/T 5023.3-2008"]])
    result: InspectionResult
    # Checked when left out too: a failed result sent without its failed items is refused.
    failed_items: list[FailedItem] = Field(default_factory=list, max_length=50, validate_default=True)
    sampled_on: RegistryDate
    published_on: RegistryDate

    @field_validator("seller_uscc")
    @classmethod
    def _seller_code(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return codes.parse_uscc(value)
        except InvalidCode as error:
            raise ValueError(error.detail) from None

    @field_validator("failed_items")
    @classmethod
    def _failed_items_match_result(cls, value: list[FailedItem], info: ValidationInfo) -> list[FailedItem]:
        result = info.data.get("result")
        if result == "fail" and not value:
            raise ValueError("a failed result names the items that failed, with measured and required values")
        if result == "pass" and value:
            raise ValueError("a passed result has no failed items")
        return value

    @field_validator("sampled_on")
    @classmethod
    def _sampled_after_production(cls, value: date, info: ValidationInfo) -> date:
        produced_on = info.data.get("produced_on")
        if produced_on is not None and value < produced_on:
            raise ValueError(f"sampled_on must be on or after produced_on ({produced_on})")
        return value

    @field_validator("published_on")
    @classmethod
    def _published_after_sampling(cls, value: date, info: ValidationInfo) -> date:
        sampled_on = info.data.get("sampled_on")
        if sampled_on is not None and value < sampled_on:
            raise ValueError(f"published_on must be on or after sampled_on ({sampled_on})")
        return value


FIELDS_BY_KIND: dict[Kind, type[RecordFields]] = {
    "rating": RatingFields,
    "violation": ViolationFields,
    "disclosure": DisclosureFields,
    "list_entry": ListEntryFields,
    "inspection": InspectionFields,
}

PUBLIC_FIELDS: dict[str, tuple[str, ...]] = {
    "rating": ("scheme", "grade", "score", "standard", "evaluated_on", "valid_until"),
    "violation": (
        "decision_no",
        "decided_on",
        "authority",
        "category",
        "legal_basis",
        "penalty",
        "severity",
        "fine_amount",
    ),
    "disclosure": ("kind", "title", "url", "body", "published_on"),
    "list_entry": ("list", "reason", "legal_basis", "decision_no", "effective_on", "expires_on"),
    "inspection": ("product_name", "brand", "model", "batch", "product_category", "result", "failed_items",
                   "authority", "plan_level", "plan_no", "report_no", "testing_body", "standards", "sampled_on",
                   "published_on"),
}


def public_summary(kind: str, details: dict[str, Any]) -> tuple[dict[str, Any], list[str] | None]:
    """The public summary of a record's fields, personal data masked; and the masked fields' names
    (None when nothing was masked)."""
    summary, masked = mask_fields({name: details.get(name) for name in PUBLIC_FIELDS[kind]})
    # Text inside lists (a spot check's failed items and standards) is masked as well.
    for name, value in summary.items():
        if isinstance(value, list | dict):
            summary[name], found = _masked_within(value)
            if found and name not in masked:
                masked.append(name)
    return summary, masked or None


def _masked_within(value: Any) -> tuple[Any, bool]:
    if isinstance(value, str):
        result = mask(value)
        return result.text, bool(result.kinds)
    if isinstance(value, list):
        pairs = [_masked_within(item) for item in value]
        return [text for text, _ in pairs], any(found for _, found in pairs)
    if isinstance(value, dict):
        pairs_of = {key: _masked_within(item) for key, item in value.items()}
        return {key: text for key, (text, _) in pairs_of.items()}, any(found for _, found in pairs_of.values())
    return value, False


class Placement(StorableFields):
    """Where a record is shown, as a single write and a batch line both take it."""

    visibility: Visibility = Field(default="public", description="public, shared (all departments) or "
                                   "restricted (the owner and the departments in shared_with)")
    shared_with: list[DepartmentCode] = Field(default_factory=list, max_length=50)
