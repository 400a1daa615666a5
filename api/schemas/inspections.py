"""What the public API answers about spot-check results (监督抽查): masked summary fields only."""

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field


class FailedItemView(BaseModel):
    item: str = Field(examples=["导体电阻"])
    measured: str = Field(description="The value the testing body measured", examples=["4.12"])
    required: str = Field(description="What the standard requires", examples=["≤3.08"])
    unit: str | None = Field(examples=["Ω/km"])


class InspectionView(BaseModel):
    """A spot-check result on public display."""

    id: str = Field(examples=["rec_01JD2X3Y4Z5A6B7C8D9E0F1G2H"])
    product_name: str = Field(examples=["聚氯乙烯绝缘电缆"])
    brand: str | None = Field(examples=["金龙羽"])
    model: str | None = Field(description="Model or specification (规格型号)")
    batch: str | None
    product_category: str = Field(examples=["电线电缆"])
    result: Literal["pass", "fail"]
    failed_items: list[FailedItemView] = Field(description="Empty when the product passed")
    producer: str = Field(description="The producer's unified social credit code", examples=["914403001922038216"])
    producer_name: str
    region_code: str = Field(description="The producer's division code")
    province_zh: str | None
    province_en: str | None
    authority: str = Field(description="Sampling authority")
    plan_level: Literal["national", "provincial", "city", "county"]
    plan_no: str
    report_no: str
    testing_body: str
    standards: list[str]
    sampled_on: date
    published_on: date
    department: str = Field(description="The department that published it")
    version: int
    masked_fields: list[str] = Field(description="Fields in which personal data was masked before publication "
                                     "(producer_name: the producer's name)")


class InspectionPageView(BaseModel):
    items: list[InspectionView]
    next_cursor: str | None
