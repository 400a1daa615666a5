"""Signed credit reports: what the registry says publicly of one organization on a date, as a
document an enterprise can attach to a bid and anyone can verify.

A report holds public data only (the public's standing: public records, masked names and
summaries). It is signed by the edge (``sign``: the service knows no JOSE) with the newest report
key and stored whole, so ``/verify/{id}`` shows exactly what was issued. Later, ``changes_since``
tells what the registry says differently today: a record corrected, withdrawn, repaired or
expired, a new record, another list, grade or supervision class.
"""

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session

from db.ids import new_id
from db.repositories.reports import ReportRepository
from db.tables import CreditReport, Record
from service.credit import report_keys
from service.credit.checks import standing
from service.credit.report_keys import SigningKey
from service.credit.standing import AppliedMeasure, Standing
from service.errors import InvalidQuery, NotFound

Signer = Callable[[Mapping[str, Any], SigningKey], str]


class ReportNotFound(NotFound):
    title = "Credit report not found"


@dataclass(frozen=True)
class IssuedReport:
    report_id: str
    issued_at: datetime
    jws: str
    claims: dict[str, Any]


@dataclass(frozen=True)
class Change:
    """One thing the registry says differently today. ``code`` for programs; the sentence in both
    languages for people."""

    code: str
    zh: str
    en: str
    record_id: str | None = None


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _plain(value: Any) -> Any:
    # Summaries are JSON already; a past version's summary is rebuilt from its fields and may hold dates.
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def _measure(measure: AppliedMeasure) -> dict[str, Any]:
    return {
        "code": measure.code, "name_zh": measure.name_zh, "name_en": measure.name_en,
        "direction": measure.direction, "basis": measure.basis, "applied_by": list(measure.applied_by),
        "trigger": {"kind": measure.trigger.kind, "record_id": measure.trigger.record_id,
                    "record_version": measure.trigger.record_version},
        "ends_on": _day(measure.ends_on), "catalogue_version": measure.catalogue_version,
    }


def payload(found: Standing, report_id: str, issued_at: datetime) -> dict[str, Any]:
    """The report's claims: everything it says, as signed."""
    grade = found.grade
    supervision = found.supervision
    return {
        "report_id": report_id,
        "issued_at": _utc(issued_at),
        "as_of": found.as_of.isoformat(),
        "organization": {"code": found.code, "name": found.name},
        "lists": {"red": found.red_listed, "black": found.black_listed},
        "grade": None if grade is None else {
            "scheme": grade.scheme, "scheme_version": grade.scheme_version, "grade": grade.grade,
            "label_zh": grade.label_zh, "label_en": grade.label_en, "record_id": grade.record_id},
        "supervision_class": {
            "code": supervision.code, "name_zh": supervision.name_zh, "name_en": supervision.name_en,
            "inspections_per_year": supervision.inspections_per_year, "reason": supervision.reason,
            "record_id": supervision.record_id},
        "measures": [_measure(m) for m in found.measures],
        "active_violations": found.active_violations,
        "records": [{"id": r.id, "kind": r.kind, "version": r.version, "status": r.status,
                     "effective_on": _day(r.effective_on), "ends_on": _day(r.ends_on), "summary": _plain(r.summary)}
                    for r in found.records],
    }


def issue(session: Session, code: str, *, as_of: date | None, today: date, now: datetime, sign: Signer,
          client_id: str | None = None, department_code: str | None = None) -> IssuedReport:
    """Issue, sign and keep a report on the public standing of ``code`` as of ``as_of`` (default
    today). A day after today has no standing yet."""
    if as_of is not None and as_of > today:
        raise InvalidQuery(f"as_of {as_of.isoformat()} is after today ({today.isoformat()}): a report "
                           "cannot say how an organization will stand", param="as_of")
    found = standing(session, code, viewer=None, viewer_kind=None, today=today, as_of=as_of)
    key = report_keys.signing_key(session, now)
    report_id, issued_at = new_id("rpt"), now.replace(microsecond=0)
    claims = payload(found, report_id, issued_at)
    jws = sign(claims, key)
    ReportRepository(session).add(CreditReport(
        id=report_id, organization_uscc=found.code, as_of=found.as_of, issued_at=issued_at, kid=key.kid, jws=jws,
        client_id=client_id, department_code=department_code))
    return IssuedReport(report_id, issued_at, jws, claims)


def stored(session: Session, report_id: str) -> CreditReport:
    report = ReportRepository(session).get(report_id)
    if report is None:
        raise ReportNotFound(f"no credit report {report_id}")
    return report


_KINDS = {"rating": ("信用评价", "rating"), "violation": ("行政处罚", "penalty"),
          "disclosure": ("企业公示", "disclosure"), "list_entry": ("名单", "list entry"),
          "inspection": ("监督抽查", "spot check")}
_STATUSES = {"withdrawn": ("已被撤销", "was withdrawn"), "repaired": ("已信用修复", "was repaired (credit restored)"),
             "expired": ("已到期，不再公示", "has expired and is no longer shown"),
             "superseded": ("已被取代（列入黑名单后红名单终止）", "was superseded (a red entry ended by a black listing)"),
             "active": ("已恢复有效", "is in force again")}


def _record_changes(reported: dict[str, Any], current: Record | None, in_force_today: set[str],
                    today: date) -> list[Change]:
    rid, kind = reported["id"], _KINDS.get(reported["kind"], (reported["kind"], reported["kind"]))
    if current is None:
        return [Change("record_not_public", f"{kind[0]}记录 {rid} 已不再公开", f"The {kind[1]} {rid} is no longer public",
                       rid)]
    changes = []
    if current.version > reported["version"]:
        changes.append(Change(
            "record_corrected", f"{kind[0]}记录 {rid} 已更正为第 {current.version} 版（报告所载为第 {reported['version']} 版）",
            f"The {kind[1]} {rid} was corrected: version {current.version} now, version {reported['version']} in the "
            "report", rid))
    if current.status != reported["status"]:
        zh, en = _STATUSES.get(current.status, (current.status, current.status))
        changes.append(Change(f"record_{current.status}", f"{kind[0]}记录 {rid} {zh}", f"The {kind[1]} {rid} {en}", rid))
    elif rid not in in_force_today and current.ends_on is not None and current.ends_on <= today:
        changes.append(Change("record_expired", f"{kind[0]}记录 {rid} 已于 {current.ends_on.isoformat()} 到期，不再公示",
                              f"The {kind[1]} {rid} ended on {current.ends_on.isoformat()} and is no longer shown",
                              rid))
    return changes


def _yes_no(flag: bool) -> tuple[str, str]:
    return ("是", "yes") if flag else ("否", "no")


def changes_since(session: Session, claims: Mapping[str, Any], today: date) -> list[Change]:
    """What the registry says today that the report does not: the public standing today against
    the report's claims (``claims`` as verified, so from any registry report ever issued)."""
    now = standing(session, claims["organization"]["code"], viewer=None, viewer_kind=None, today=today, as_of=today)
    reported = {r["id"]: r for r in claims.get("records", [])}
    current = {r.id: r for r in ReportRepository(session).public_records(list(reported))}
    in_force = {r.id for r in now.records}
    changes = [c for rid, r in reported.items() for c in _record_changes(r, current.get(rid), in_force, today)]
    for record in now.records:
        if record.id not in reported:
            kind = _KINDS.get(record.kind, (record.kind, record.kind))
            changes.append(Change("record_new", f"新公示{kind[0]}记录 {record.id}（{record.effective_on.isoformat()} 起）",
                                  f"A new {kind[1]} {record.id} (from {record.effective_on.isoformat()})", record.id))
    lists = claims.get("lists", {})
    for name, zh, flag in (("black", "黑名单", now.black_listed), ("red", "红名单", now.red_listed)):
        if bool(lists.get(name)) != flag:
            was, is_ = _yes_no(bool(lists.get(name))), _yes_no(flag)
            changes.append(Change(f"{name}_list", f"列入{zh}：报告为「{was[0]}」，现为「{is_[0]}」",
                                  f"On the {name} list: {was[1]} in the report, {is_[1]} now"))
    grade = claims.get("grade") or {}
    grade_then = f"{grade['scheme']} {grade['grade']}" if grade else None
    grade_now = f"{now.grade.scheme} {now.grade.grade}" if now.grade else None
    if grade_then != grade_now:
        changes.append(Change("grade", f"质量信用等级：报告为 {grade_then or '暂无评价'}，现为 {grade_now or '暂无评价'}",
                              f"Grade: {grade_then or 'not rated'} in the report, {grade_now or 'not rated'} now"))
    class_then = (claims.get("supervision_class") or {}).get("code")
    if class_then != now.supervision.code:
        changes.append(Change("supervision_class", f"监管类别：报告为 {class_then} 类，现为 {now.supervision.code} 类",
                              f"Supervision class: {class_then} in the report, {now.supervision.code} now"))
    if claims["organization"].get("name") != now.name:
        changes.append(Change("name", f"企业名称现为「{now.name}」", f"The organization's name is now “{now.name}”"))
    return changes
