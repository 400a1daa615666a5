"""A consumer's path through the spot-check pages, in a real Chromium against the real server:
search a product -> open its failed spot check -> read the failed items -> the producer's profile
shows it; then the same in English. Screenshots go to test-artifacts/."""

import pytest

from service.records import publishing
from tests import factories as f
from tests.live_server import live_server
from tests.masking import find_personal_data
from tests.test_browser import _require_browser, browser, shot  # noqa: F401 (the browser fixture)


@pytest.fixture
def server(db, database_url, tmp_path, unit_of_work, clock):
    """The real service with a failed and a passed spot check of Huawei's products, one with
    personal data typed into its failed items."""
    _require_browser()
    with unit_of_work() as session:
        f.make_department(session, now=clock.now())
        f.make_organization(session, now=clock.now(), code=f.HUAWEI, name="华为技术有限公司")
        failed = publishing.publish(session, f.HUAWEI, f.inspection(hostile=True, product_name="聚氯乙烯绝缘电缆"),
                                    department_code="SZAMR", now=clock.now()).record.id
        publishing.publish(session, f.HUAWEI, f.inspection("pass", product_name="橡皮绝缘电缆", brand="金杯"),
                           department_code="SZAMR", now=clock.now())
    with live_server(database_url, tmp_path) as base:
        yield base, failed


@pytest.mark.parametrize("width", [1280, 390])
def test_search_a_product_and_open_its_failed_spot_check(server, browser, database_url, width) -> None:  # noqa: F811
    base, failed = server
    backend = ("pg" if database_url.startswith("postgresql") else "sqlite") + f"-{width}"
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(base + "/")
    page.click("a[href='/inspections']")
    page.fill("[data-testid=inspection-q]", "电缆")
    page.press("[data-testid=inspection-q]", "Enter")
    page.wait_for_selector("[data-testid=inspection-result]")
    assert page.locator("[data-testid=inspection-result]").count() == 2
    shot(page, "inspections-1-search", backend)
    page.select_option("select[name=result]", "fail")
    page.click("form.filters button[type=submit]")
    page.wait_for_selector("[data-testid=inspection-result]")
    assert page.locator("[data-testid=inspection-result]").count() == 1
    page.click("[data-testid=inspection-result]")

    page.wait_for_selector("[data-testid=failed-items]")
    assert page.url.endswith(f"/inspections/{failed}")
    assert page.inner_text("[data-testid=inspection-verdict]") == "不合格"
    assert find_personal_data(page.content()) == []
    assert "****" in page.inner_text("[data-testid=failed-items]")  # masked, not dropped
    shot(page, "inspections-2-failed", backend)

    page.click("[data-testid=language-switch]")
    page.wait_for_selector("[data-testid=failed-items]")
    assert page.inner_text("[data-testid=inspection-verdict]") == "Fail"
    assert "Failed items" in page.inner_text("main")
    page.click("text=华为技术有限公司")
    page.wait_for_selector("[data-testid=profile-inspection]")
    assert page.locator(f"a[href^='/inspections/{failed}']").count() == 1
    assert "Fail" in page.inner_text("main")
    shot(page, "inspections-3-profile", backend)
    assert find_personal_data(page.content()) == []
