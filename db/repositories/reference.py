"""Reference data: departments, grade schemes, rule sets."""

from collections.abc import Sequence
from datetime import date

from sqlmodel import Session, col, select

from db.tables import Department, Grade, GradeScheme, GradeSchemeVersion, MeasureCatalogue, RuleSet


class ReferenceRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def department(self, code: str) -> Department | None:
        return self.session.get(Department, code)

    def departments(self) -> list[Department]:
        return list(self.session.exec(select(Department).order_by(col(Department.code))))

    def grade_scheme(self, code: str) -> GradeScheme | None:
        return self.session.get(GradeScheme, code)

    def grades(self, scheme_code: str) -> list[Grade]:
        statement = select(Grade).where(Grade.scheme_code == scheme_code).order_by(col(Grade.rank))
        return list(self.session.exec(statement))

    def grade(self, scheme_code: str, code: str) -> Grade | None:
        return self.session.get(Grade, (scheme_code, code))

    def grade_scheme_versions(self, scheme_code: str | None = None) -> list[GradeSchemeVersion]:
        statement = select(GradeSchemeVersion).order_by(col(GradeSchemeVersion.scheme_code),
                                                        col(GradeSchemeVersion.version))
        if scheme_code is not None:
            statement = statement.where(GradeSchemeVersion.scheme_code == scheme_code)
        return list(self.session.exec(statement))

    def latest_grade_scheme_version(self, scheme_code: str) -> GradeSchemeVersion | None:
        statement = (select(GradeSchemeVersion).where(GradeSchemeVersion.scheme_code == scheme_code)
                     .order_by(col(GradeSchemeVersion.version).desc()).limit(1))
        return self.session.exec(statement.with_for_update()).first()

    def measure_catalogues(self) -> list[MeasureCatalogue]:
        return list(self.session.exec(select(MeasureCatalogue).order_by(col(MeasureCatalogue.version))))

    def latest_measure_catalogue(self) -> MeasureCatalogue | None:
        statement = select(MeasureCatalogue).order_by(col(MeasureCatalogue.version).desc()).limit(1)
        return self.session.exec(statement.with_for_update()).first()

    def rule_set_in_force(self, name: str, on: date) -> RuleSet | None:
        """The newest version of ``name`` whose effective date is on or before ``on``."""
        statement = (
            select(RuleSet)
            .where(RuleSet.name == name, RuleSet.effective_from <= on)
            .order_by(col(RuleSet.effective_from).desc(), col(RuleSet.version).desc())
            .limit(1)
        )
        return self.session.exec(statement).first()

    def rule_set_by_id(self, rule_set_id: int) -> RuleSet | None:
        return self.session.get(RuleSet, rule_set_id)

    def rule_set(self, name: str, version: int) -> RuleSet | None:
        statement = select(RuleSet).where(RuleSet.name == name, RuleSet.version == version)
        return self.session.exec(statement).first()

    def latest_rule_set(self, name: str) -> RuleSet:
        statement = select(RuleSet).where(RuleSet.name == name).order_by(col(RuleSet.version).desc()).limit(1)
        return self.session.exec(statement.with_for_update()).one()

    def rule_set_versions(self, name: str) -> Sequence[RuleSet]:
        statement = select(RuleSet).where(RuleSet.name == name).order_by(col(RuleSet.version))
        return self.session.exec(statement).all()

    def add(self, *rows: Department | GradeScheme | Grade | GradeSchemeVersion | MeasureCatalogue | RuleSet) -> None:
        self.session.add_all(rows)
        self.session.flush()
