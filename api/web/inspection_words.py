"""The words of the spot-check pages (the product search, one result, the profile's results), Chinese and English."""

from api.web.i18n import Language, words

TEXT: dict[str, tuple[str, str]] = {
    "inspections": ("产品抽查", "Spot checks"),
    "inspections_title": ("产品质量监督抽查结果查询", "Product quality spot-check results"),
    "inspection_placeholder": ("产品名称或品牌（至少两个字）", "Product name or brand (2+ characters)"),
    "inspection_hint": ("例如：电缆、插座、儿童玩具", "For example: 电缆, 插座, 儿童玩具"),
    "product_name": ("产品名称", "Product"),
    "brand": ("商标/品牌", "Brand"),
    "model": ("规格型号", "Model"),
    "batch": ("生产日期/批号", "Batch"),
    "product_category": ("产品类别", "Category"),
    "producer": ("生产企业", "Producer"),
    "result": ("抽查结果", "Result"),
    "result_any": ("全部", "All"),
    "result_pass": ("合格", "Pass"),
    "result_fail": ("不合格", "Fail"),
    "failed_items": ("不合格项目", "Failed items"),
    "item": ("检验项目", "Item"),
    "measured": ("实测值", "Measured"),
    "required": ("标准要求", "Required"),
    "authority": ("抽查机关", "Sampling authority"),
    "plan": ("抽查计划", "Plan"),
    "plan_national": ("国家监督抽查", "National spot check"),
    "plan_provincial": ("省级监督抽查", "Provincial spot check"),
    "plan_city": ("市级监督抽查", "City spot check"),
    "plan_county": ("县级监督抽查", "County spot check"),
    "report_no": ("检验报告编号", "Report no."),
    "testing_body": ("检验机构", "Testing body"),
    "standards": ("检验依据", "Standards"),
    "sampled_on": ("抽样日期", "Sampled on"),
    "published_on": ("公布日期", "Published on"),
    "from": ("公布日期自", "Published from"),
    "to": ("至", "to"),
    "no_inspections": ("没有找到匹配的抽查结果。", "No spot check matches."),
    "spot_check_details": ("查看抽查详情", "Spot-check details"),
    "inspection_not_found": ("该抽查结果不存在或已不再公示。", "This spot check does not exist or is no longer shown."),
}


def inspection_words(language: Language) -> dict[str, str]:
    index = 0 if language == "zh" else 1
    return words(language) | {key: pair[index] for key, pair in TEXT.items()}
