"""The statistics in a real Chromium against the real server: the home page's key figures, then
``/statistics`` in Chinese and in English, every chart an inline SVG with its title and
description in the page's language, and a CSV download link that answers a CSV. Screenshots go to
test-artifacts/."""

import httpx
import pytest

from service.records import publishing
from tests import factories as f
from tests.live_server import live_server
from tests.test_browser import _require_browser, browser, shot  # noqa: F401 (the browser fixture)


@pytest.fixture
def server(db, database_url, tmp_path, unit_of_work, clock):
    """The real service on the test database: Huawei with a penalty, a red entry and two spot checks."""
    _require_browser()
    with unit_of_work() as session:
        f.make_department(session, now=clock.now())
        f.make_organization(session, now=clock.now(), code=f.HUAWEI, name="华为技术有限公司")
        publishing.publish(session, f.HUAWEI, f.violation(), department_code="SZAMR", now=clock.now())
        publishing.publish(session, f.HUAWEI, f.list_entry("red"), department_code="SZAMR", now=clock.now())
        publishing.publish(session, f.HUAWEI, f.inspection("fail"), department_code="SZAMR", now=clock.now())
        publishing.publish(session, f.HUAWEI, f.inspection("pass"), department_code="SZAMR", now=clock.now())
    with live_server(database_url, tmp_path) as base:
        yield base


def test_home_figures_and_statistics_in_both_languages(server, browser, database_url) -> None:  # noqa: F811
    backend = "pg" if database_url.startswith("postgresql") else "sqlite"
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server + "/")
    assert page.inner_text("[data-testid=figure-organizations]") == "1"
    assert page.inner_text("[data-testid=figure-red]") == "1"
    assert "华为技术有限公司" in page.inner_text("[data-testid=newest-red]")
    page.click("text=统计")
    page.wait_for_selector("[data-testid=statistic]")
    shot(page, "statistics-zh", backend)
    charts = page.locator("svg[data-testid=chart]")
    assert charts.count() >= 4
    assert page.locator("#chart-inspections-title").text_content() == "监督抽查与合格率"
    assert "50.0%" in page.inner_text("#inspections")
    page.click("[data-testid=language-switch]")
    page.wait_for_selector("[data-testid=statistic]")
    shot(page, "statistics-en", backend)
    assert page.locator("#chart-inspections-title").text_content() == "Spot checks and pass rates"
    assert "Bar chart" in page.locator("#chart-inspections-desc").text_content()
    assert page.locator("svg[data-testid=chart]").count() == charts.count()
    href = page.get_attribute("#inspections a.export", "href")
    answer = httpx.get(server + href)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert "电线电缆" in answer.text
