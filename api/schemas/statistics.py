"""The public statistics as the API answers them."""

from typing import Literal

from pydantic import BaseModel, Field

from service.statistics.tables import Row, Statistic, Table


class StatisticView(BaseModel):
    """One statistic the registry keeps, and where to read it."""

    name: str = Field(examples=["inspections"])
    title_zh: str = Field(examples=["监督抽查与合格率"])
    title_en: str = Field(examples=["Spot checks and pass rates"])
    by_year: bool = Field(description="Counted by year: ``year=`` and ``by=year`` apply")
    rates: bool = Field(description="Rows carry passed, failed and the pass rate (合格率)")
    href: str = Field(examples=["/v1/public/statistics/inspections"])

    @classmethod
    def of(cls, statistic: Statistic) -> "StatisticView":
        return cls(name=statistic.name, title_zh=statistic.title_zh, title_en=statistic.title_en,
                   by_year=statistic.by_year, rates=statistic.rates, href=f"/v1/public/statistics/{statistic.name}")


class StatisticRowView(BaseModel):
    key: str = Field(description="The facet (a grade, a category/severity...), division code prefix or year")
    label_zh: str
    label_en: str
    count: int
    passed: int | None = Field(None, description="Spot checks only: results that passed")
    failed: int | None = Field(None, description="Spot checks only: results that failed")
    pass_rate: float | None = Field(None, description="Spot checks only: passed / count (合格率), 0 to 1")

    @classmethod
    def of(cls, row: Row) -> "StatisticRowView":
        return cls(key=row.key, label_zh=row.label_zh, label_en=row.label_en, count=row.count, passed=row.passed,
                   failed=row.failed, pass_rate=row.pass_rate)


class StatisticTableView(BaseModel):
    """One statistic as a table: counts kept current as records are written, never a scan."""

    name: str
    title_zh: str
    title_en: str
    by: Literal["facet", "region", "year"]
    group_zh: str = Field(description="What the rows are: the facet, the divisions or the years")
    group_en: str
    region: str | None = Field(description="Division code prefix covered (35 Fujian, 3501 Fuzhou); null: China")
    region_zh: str
    region_en: str
    year: int | None
    total: int
    rows: list[StatisticRowView]

    @classmethod
    def of(cls, table: Table) -> "StatisticTableView":
        s = table.statistic
        group_zh, group_en = {"facet": (s.facet_zh, s.facet_en), "region": ("地区", "Division"),
                              "year": ("年份", "Year")}[table.by]
        return cls(name=s.name, title_zh=s.title_zh, title_en=s.title_en, by=table.by, group_zh=group_zh,
                   group_en=group_en, region=table.region, region_zh=table.region_zh, region_en=table.region_en,
                   year=table.year, total=table.total, rows=[StatisticRowView.of(r) for r in table.rows])
