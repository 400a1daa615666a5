"""Grade schemes (质量信用分级), versioned like rule sets: each version has its grades, best first,
with optional score ranges and the supervision class (分类监管) each grade leads to, and each
class's inspection frequency. A rating names the version in force on its evaluation date and keeps
it for ever; a later version never regrades an old evaluation.

Shipped: the national default (GB/T 23791 "four classes, six grades") and a provincial example for
manufacturers in the style of Hebei's enterprise quality credit grading (AAA..D with score bands).
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import pairwise
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlmodel import Session

from db.repositories.reference import ReferenceRepository
from db.tables import Grade, GradeScheme, GradeSchemeVersion
from service.errors import InvalidRecord, NotFound
from service.records.fields import Readable, SchemeCode, ShortText, StorableFields
from service.rules.parsed import parsed

SupervisionClassCode = Literal["A", "B", "C", "D"]
SUPERVISION_CLASSES: tuple[SupervisionClassCode, ...] = ("A", "B", "C", "D")  # most trusted first
CLASS_NAMES: dict[str, tuple[str, str]] = {
    "A": ("守信（信任）", "trusted"),
    "B": ("一般", "ordinary"),
    "C": ("关注", "watched"),
    "D": ("严格监管", "strictly supervised"),
}
GradeCode = Annotated[str, Field(min_length=1, max_length=8, pattern=r"^[A-Za-z0-9+\-]+$"), Readable]
Label = Annotated[str, Field(min_length=1, max_length=50), Readable]
# A float, not a Decimal: the bounds of a band, compared with a rating's score, never summed; and
# one schema for reading and writing (a Decimal is a number in and a string out).
Score = Annotated[float, Field(ge=0, le=1000)]


class SchemeGrade(StorableFields):
    model_config = ConfigDict(extra="forbid")

    code: GradeCode = Field(examples=["AAA"])
    label_zh: Label = Field(examples=["优秀"])
    label_en: Label = Field(examples=["Excellent"])
    min_score: Score | None = Field(default=None, description="Lowest score of the grade (inclusive)")
    max_score: Score | None = Field(default=None, description="Highest score of the grade (inclusive)")
    supervision_class: SupervisionClassCode = Field(examples=["A"])

    @model_validator(mode="after")
    def _range(self) -> "SchemeGrade":
        if (self.min_score is None) != (self.max_score is None):
            raise ValueError("give both min_score and max_score, or neither")
        if self.min_score is not None and self.max_score is not None and self.min_score > self.max_score:
            raise ValueError(f"min_score {self.min_score} is more than max_score {self.max_score}")
        return self


class ClassRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inspections_per_year: float = Field(ge=0, le=52, description="Routine spot checks a year in this class")


class SchemeDefinition(StorableFields):
    """What one version of a scheme says. Grades best first; score ranges, when given, for every
    grade, falling as the grades fall, never overlapping."""

    model_config = ConfigDict(extra="forbid")

    name_zh: ShortText
    name_en: ShortText
    basis: ShortText = Field(description="The standard or provincial rule the scheme follows")
    grades: list[SchemeGrade] = Field(min_length=1, max_length=20)
    classes: dict[SupervisionClassCode, ClassRule]

    @model_validator(mode="after")
    def _consistent(self) -> "SchemeDefinition":
        codes = [g.code for g in self.grades]
        if len(set(codes)) != len(codes):
            raise ValueError(f"grade codes repeat: {', '.join(sorted({c for c in codes if codes.count(c) > 1}))}")
        if set(self.classes) != set(SUPERVISION_CLASSES):
            raise ValueError("classes needs the inspection frequency of each class A, B, C and D")
        ranged = [g for g in self.grades if g.min_score is not None]
        if ranged and len(ranged) != len(self.grades):
            raise ValueError("give score ranges for every grade or for none")
        for better, worse in pairwise(ranged):
            assert better.min_score is not None and worse.max_score is not None
            if worse.max_score >= better.min_score:
                raise ValueError(f"score ranges overlap or are out of order: {worse.code} reaches {worse.max_score}, "
                                 f"{better.code} starts at {better.min_score} (grades go best first)")
        ranks = [SUPERVISION_CLASSES.index(g.supervision_class) for g in self.grades]
        if ranks != sorted(ranks):
            raise ValueError("a worse grade cannot lead to a more trusted supervision class than a better one")
        return self

    def grade(self, code: str) -> SchemeGrade | None:
        return next((g for g in self.grades if g.code == code), None)


class SchemePublish(SchemeDefinition):
    """A new scheme, or a new version of one, effective from a date."""

    code: SchemeCode = Field(examples=["hebei-manufacturing"], pattern=r"^[a-z0-9][a-z0-9_-]*$")
    effective_from: date


def _grade(code: str, zh: str, en: str, cls: SupervisionClassCode, lo: str | None = None,
           hi: str | None = None) -> SchemeGrade:
    return SchemeGrade(code=code, label_zh=zh, label_en=en, supervision_class=cls,
                       min_score=float(lo) if lo else None, max_score=float(hi) if hi else None)


_FREQUENCIES: dict[SupervisionClassCode, ClassRule] = {"A": ClassRule(inspections_per_year=0.2), "B": ClassRule(inspections_per_year=1),
                "C": ClassRule(inspections_per_year=2), "D": ClassRule(inspections_per_year=4)}
DEFAULT_SCHEME = "default"
# In force for every evaluation the registry can hold, like the default rule set.
SHIPPED_FROM = date(1949, 10, 1)
SHIPPED: dict[str, SchemeDefinition] = {
    DEFAULT_SCHEME: SchemeDefinition(
        name_zh="质量信用等级（四等六级）", name_en="Quality credit grades (four classes, six grades)",
        basis="GB/T 23791-2009",
        grades=[_grade("AAA", "优秀", "Excellent", "A"), _grade("AA", "良好", "Good", "A"),
                _grade("A", "较好", "Fairly good", "B"), _grade("B", "一般", "Fair", "B"),
                _grade("C", "较差", "Poor", "C"), _grade("D", "差", "Bad", "D")],
        classes=_FREQUENCIES,
    ),
    # Score bands as provincial manufacturer gradings publish them (百分制, 90/80/70/60).
    "hebei-manufacturing": SchemeDefinition(
        name_zh="河北省制造业企业质量信用等级（示例）", name_en="Hebei manufacturers' quality credit grades (example)",
        basis="冀质量信用分级分类监管办法（示例）; GB/T 31863-2015",
        grades=[_grade("AAA", "优秀", "Excellent", "A", "90", "100"),
                _grade("AA", "良好", "Good", "A", "80", "89.99"),
                _grade("A", "较好", "Fairly good", "B", "70", "79.99"),
                _grade("B", "一般", "Fair", "C", "60", "69.99"),
                _grade("C", "较差", "Poor", "D", "40", "59.99"),
                _grade("D", "差", "Bad", "D", "0", "39.99")],
        classes={"A": ClassRule(inspections_per_year=0.1), "B": ClassRule(inspections_per_year=1),
                 "C": ClassRule(inspections_per_year=3), "D": ClassRule(inspections_per_year=6)},
    ),
}


@dataclass(frozen=True)
class SchemeVersion:
    id: int
    code: str
    version: int
    effective_from: date
    definition: SchemeDefinition


def _version(row: GradeSchemeVersion) -> SchemeVersion:
    assert row.id is not None
    return SchemeVersion(row.id, row.scheme_code, row.version, row.effective_from,
                         parsed(SchemeDefinition, row.definition))


def _store(session: Session, code: str, definition: SchemeDefinition, *, version: int, effective_from: date,
           now: datetime) -> GradeSchemeVersion:
    reference = ReferenceRepository(session)
    names = {"name_zh": definition.name_zh, "name_en": definition.name_en, "basis": definition.basis}
    scheme = reference.grade_scheme(code) or GradeScheme(code=code, **names)
    for name, value in names.items():  # the scheme's names are the newest version's
        setattr(scheme, name, value)
    reference.add(scheme)  # before its grades and version, which refer to it
    # ``grade`` holds every grade code the scheme has had, labelled as the newest version labels it:
    # the public profile names a rating's grade through it.
    grades = []
    for rank, item in enumerate(definition.grades):
        grade = reference.grade(code, item.code) or Grade(scheme_code=code, code=item.code, rank=rank,
                                                         label_zh=item.label_zh, label_en=item.label_en)
        grade.rank, grade.label_zh, grade.label_en = rank, item.label_zh, item.label_en
        grades.append(grade)
    row = GradeSchemeVersion(scheme_code=code, version=version, effective_from=effective_from,
                             definition=definition.model_dump(mode="json"), created_at=now)
    reference.add(*grades, row)
    session.info.pop(_BOOK, None)
    return row


def ensure_shipped(session: Session, *, now: datetime) -> None:
    """The shipped schemes' first versions, if missing (idempotent)."""
    reference = ReferenceRepository(session)
    for code, definition in SHIPPED.items():
        if not reference.grade_scheme_versions(code):
            _store(session, code, definition, version=1, effective_from=SHIPPED_FROM, now=now)


def publish(session: Session, body: SchemePublish, *, today: date, now: datetime) -> SchemeVersion:
    """A new scheme (any effective date: no rating names it yet), or a new version of one from
    today on, never before its newest version: evaluations already entered keep their version."""
    reference = ReferenceRepository(session)
    latest = reference.latest_grade_scheme_version(body.code)  # locked: one publisher at a time
    definition = SchemeDefinition.model_validate(body.model_dump(exclude={"code", "effective_from"}))
    if latest is None:
        return _version(_store(session, body.code, definition, version=1, effective_from=body.effective_from,
                               now=now))
    if body.effective_from < today:
        raise InvalidRecord(f"effective_from {body.effective_from} is in the past; a new version of a scheme "
                            "applies from today on", field="effective_from")
    if body.effective_from <= latest.effective_from:
        raise InvalidRecord(f"version {latest.version} of {body.code!r} takes effect on {latest.effective_from}; "
                            "a new version must take effect after it", field="effective_from")
    return _version(_store(session, body.code, definition, version=latest.version + 1,
                           effective_from=body.effective_from, now=now))


def versions(session: Session, code: str | None = None) -> list[SchemeVersion]:
    rows = ReferenceRepository(session).grade_scheme_versions(code)
    if code is not None and not rows:
        raise NotFound(f"no grade scheme {code!r}")
    return [_version(r) for r in rows]


_BOOK = "grade_scheme_book"


def _book(session: Session) -> dict[str, list[SchemeVersion]]:
    """Every scheme version, read once per transaction (the table is small; a batch of ratings
    asks for each line)."""
    book: dict[str, list[SchemeVersion]] | None = session.info.get(_BOOK)
    if book is None:
        book = {}
        for version in versions(session):
            book.setdefault(version.code, []).append(version)
        session.info[_BOOK] = book
    return book


def in_force(session: Session, code: str, on: date) -> SchemeVersion | None:
    candidates = [v for v in _book(session).get(code, []) if v.effective_from <= on]
    return candidates[-1] if candidates else None


def by_id(session: Session, version_id: int | None) -> SchemeVersion | None:
    return next((v for vs in _book(session).values() for v in vs if v.id == version_id), None)


def require_grade(session: Session, scheme: str, grade: str, *, on: date, score: Decimal | None) -> int:
    """The id of the scheme version a rating of ``grade`` evaluated ``on`` is given under; refused
    when the scheme is unknown, has no version in force then, lacks the grade, or the score falls
    outside the grade's range."""
    book = _book(session)
    if scheme not in book:
        raise InvalidRecord(f"unknown grade scheme {scheme!r} (known: {', '.join(sorted(book))})", field="scheme")
    version = in_force(session, scheme, on)
    if version is None:
        raise InvalidRecord(f"grade scheme {scheme!r} is not in force on {on.isoformat()} (its first version "
                            f"takes effect on {book[scheme][0].effective_from})", field="evaluated_on")
    found = version.definition.grade(grade)
    if found is None:
        allowed = ", ".join(g.code for g in version.definition.grades)
        raise InvalidRecord(f"grade {grade!r} is not in scheme {scheme!r} version {version.version} ({allowed})",
                            field="grade")
    if score is not None and found.min_score is not None and found.max_score is not None \
            and not found.min_score <= score <= found.max_score:
        raise InvalidRecord(f"score {score} is outside grade {grade}'s range {found.min_score}-{found.max_score} "
                            f"in scheme {scheme!r} version {version.version}", field="score")
    return version.id
