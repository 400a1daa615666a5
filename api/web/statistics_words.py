"""The words of the statistics page and the home page's key figures, Chinese and English."""

from api.web.i18n import Language, words

TEXT: dict[str, tuple[str, str]] = {
    "statistics_title": ("质量信用统计", "Quality credit statistics"),
    "statistics_intro": ("以下数字随记录的公示、更正、撤销和到期即时更新，只统计向社会公示的记录。",
                         "These counts change as records are published, corrected, withdrawn and end; only records "
                         "on public display count."),
    "region": ("地区", "Division"),
    "region_hint": ("地区名称或代码，如 福建省、350100", "Name or code, e.g. Fujian, 350100"),
    "year": ("年份", "Year"),
    "all_years": ("全部年份", "All years"),
    "apply": ("查看", "Show"),
    "count": ("数量", "Count"),
    "passed": ("合格", "Passed"),
    "failed": ("不合格", "Failed"),
    "pass_rate": ("合格率", "Pass rate"),
    "total": ("合计", "Total"),
    "download_csv": ("下载 CSV", "Download CSV"),
    "no_counts": ("暂无数据。", "Nothing counted yet."),
    "not_by_year": ("不按年份统计，显示全部。", "Not counted by year: all years shown."),
    "chart_desc": ("条形图：{title}，{place}，共 {total}。", "Bar chart: {title}, {place}, {total} in all."),
    "by_facet": ("按类别", "By kind"),
    "by_region": ("按地区", "By division"),
    "by_year": ("按年份", "By year"),
    "key_figures": ("关键数字", "Key figures"),
    "figure_organizations": ("经营主体", "Organizations"),
    "figure_red": ("红名单在列", "On the red list"),
    "figure_black": ("黑名单在列", "On the black list"),
    "figure_inspections": ("监督抽查", "Spot checks"),
    "figure_pass_rate": ("抽查合格率", "Spot-check pass rate"),
    "newest_red": ("最新红名单", "Newest on the red list"),
    "newest_black": ("最新黑名单", "Newest on the black list"),
    "newest_failed": ("最新不合格抽查", "Newest failed spot checks"),
    "all_statistics": ("全部统计", "All statistics"),
    "none_yet": ("暂无。", "None yet."),
}


def statistics_words(language: Language) -> dict[str, str]:
    index = 0 if language == "zh" else 1
    return words(language) | {key: pair[index] for key, pair in TEXT.items()}
