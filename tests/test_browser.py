"""A person's path through the pages, in a real Chromium against the real server on 127.0.0.1:
search 华为 -> open the result -> see the black-list status -> switch to English -> file an
objection -> get a ticket. Screenshots go to test-artifacts/ (desktop and phone widths). And a
department's hostile records (personal data in every field) pushed to that server and browsed:
masked on every page, in the pages as the browser got them and as the server recorded them for
the session's scan (tests/live_traffic.py).
"""

import os
import re
from pathlib import Path

import httpx
import pytest

from service.access import clients
from service.records import publishing
from tests import factories as f
from tests import live_traffic
from tests.live_server import live_server
from tests.masking import find_personal_data

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]


def _require_browser() -> None:
    if not CHROMIUM.exists():
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail("REQUIRE_BROWSER=1 but /usr/bin/chromium is missing (scripts/ensure-browser.sh)")
        pytest.skip("no /usr/bin/chromium: browser tests skipped")


@pytest.fixture
def server(db, database_url, tmp_path, unit_of_work, clock):
    """The real service as its own process, on the test database, with Huawei on the black list."""
    _require_browser()
    with unit_of_work() as session:
        f.make_department(session, now=clock.now())
        f.make_organization(session, now=clock.now(), code=f.HUAWEI, name="华为技术有限公司", legal_representative="徐直军")
        publishing.publish(session, f.HUAWEI, f.violation(), department_code="SZAMR", now=clock.now())
        publishing.publish(session, f.HUAWEI, f.list_entry("black"), department_code="SZAMR", now=clock.now())
    with live_server(database_url, tmp_path) as base:
        yield base


@pytest.fixture
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def shot(page, name: str, backend: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{backend}-{name}.png"), full_page=True)


@pytest.mark.parametrize("width", [1280, 390])
def test_search_profile_english_objection(server, browser, database_url, width) -> None:
    backend = ("pg" if database_url.startswith("postgresql") else "sqlite") + f"-{width}"
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(server + "/")
    page.fill("#q", "华为")
    page.press("#q", "Enter")
    page.wait_for_selector("[data-testid=result]")
    shot(page, "1-search", backend)
    page.click("text=华为技术有限公司")

    page.wait_for_selector("[data-testid=list-status]")
    assert page.inner_text("[data-testid=list-status]") == "列入严重违法失信名单"
    assert "徐直军" in page.inner_text("main")
    shot(page, "2-profile", backend)

    page.click("[data-testid=language-switch]")
    page.wait_for_url(re.compile(r"lang=en"))
    assert page.inner_text("[data-testid=list-status]") == "On the black list"
    assert page.get_attribute("html", "lang") == "en"
    shot(page, "3-profile-en", backend)

    page.click("[data-testid=object] >> nth=0")
    page.fill("#reason", "The penalty decision was revoked on review.")
    page.fill("#contact", "wang@example.org")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=ticket]")
    assert re.fullmatch(r"obj_[0-9A-Z]{26}", page.inner_text("[data-testid=ticket]"))
    assert len(page.inner_text("[data-testid=secret]")) >= 40
    shot(page, "4-objection-filed", backend)

    page.goto(server + f"/organizations/{f.HUAWEI}?lang=en")
    assert page.inner_text("[data-testid=under-objection]") == "Under objection"

    page.goto(server + "/organizations/914403001922038217")
    assert "check character should be 6" in page.inner_text("[data-testid=message]")
    shot(page, "5-invalid-code", backend)
    page.close()


def push_hostile_records(server: str, unit_of_work, clock) -> str:
    """An organization in Fuzhou (outside the list filters of these tests) with personal data in
    every field, pushed to the live server by a department as its client would; its code."""
    with unit_of_work() as session:
        made = clients.create(session, "SZAMR", name="hostile", scopes=["records:write", "lists:write"],
                              now=clock.now())
    token = httpx.post(f"{server}/v1/auth/token", data={"grant_type": "client_credentials", "client_id":
                       made.client.client_id, "client_secret": made.secret}).json()["access_token"]
    code = f.new_uscc("350102")
    for method, path, fields in (("PUT", f"/v1/organizations/{code}", f.organization(hostile=True)),
                                 ("POST", f"/v1/organizations/{code}/violations", f.violation(hostile=True)),
                                 ("POST", "/v1/list-entries", f.list_entry("red", hostile=True))):
        body = fields.model_dump(mode="json", exclude_none=True) | ({"code": code} if "list-entries" in path else {})
        response = httpx.request(method, server + path, json=body, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code in (200, 201), response.text
    return code


def test_list_pages_filters_accessibility_and_masked_personal_data(server, browser, unit_of_work, clock) -> None:
    hostile = push_hostile_records(server, unit_of_work, clock)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server + "/lists/black?region=4403")
    assert page.locator("table.list tbody tr").count() == 1
    assert page.get_attribute("html", "lang") == "zh-CN"
    # Every form control has a label a screen reader can read.
    unlabeled = page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), textarea')]
        .filter(e => !e.labels?.length && !e.getAttribute('aria-label')).map(e => e.name)""")
    assert unlabeled == []
    page.goto(server + "/lists/black?region=11")
    assert page.locator("table.list tbody tr").count() == 0
    for path in ("/lists/red", "/?q=华兴电子", f"/organizations/{hostile}", f"/organizations/{hostile}?lang=en"):
        page.goto(server + path)
        assert "****" in page.inner_text("main"), path  # the planted numbers are on the page, masked
        assert find_personal_data(page.content()) == [], path
    page.close()
    # The server recorded what it sent the browser: the session's scan reads it.
    recorded = [body for path, body in live_traffic.answers() if path == f"/organizations/{hostile}"]
    assert len(recorded) == 2 and all("****" in body for body in recorded)


def test_api_docs_work_offline_under_their_csp(db, database_url, tmp_path, browser) -> None:
    """Swagger UI and ReDoc render from the service's own assets, and their CSP blocks nothing they
    need: the only refusal is ReDoc's vendor logo, the one request that would leave the intranet."""
    logo = "https://cdn.redoc.ly/redoc/logo-mini.svg"
    with live_server(database_url, tmp_path) as base:
        for path, rendered in (("/docs", ".opblock"), ("/redoc", "h1")):
            errors, elsewhere = _open_docs(browser, base, path, rendered)
            assert [e for e in errors if logo not in e] == [], errors
            assert set(elsewhere) <= {logo}


def _open_docs(browser, base: str, path: str, rendered: str) -> tuple[list[str], list[str]]:
    """The console errors of the page, and the requests it made anywhere but the service."""
    page = browser.new_page()
    errors: list[str] = []
    elsewhere: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("request", lambda request: None if request.url.startswith((base, "data:", "blob:"))
            else elsewhere.append(request.url))
    page.goto(base + path)
    page.wait_for_selector(rendered, timeout=30_000)
    page.wait_for_timeout(1000)
    page.close()
    return errors, elsewhere


def test_a_report_printed_by_the_browser_then_verified_on_the_verify_page(server, browser, unit_of_work, clock,
                                                                          database_url) -> None:
    """A bidding platform's credit-checking client issues Huawei's report; a person opens its page,
    prints it (Chromium's own PDF), copies the signed text from the page, pastes it on /verify and
    is told it is genuine."""
    backend = "pg" if database_url.startswith("postgresql") else "sqlite"
    with unit_of_work() as session:
        made = clients.create(session, "SZAMR", name="bidding platform", scopes=["credit:check"], now=clock.now())
    token = httpx.post(f"{server}/v1/auth/token", data={"grant_type": "client_credentials", "client_id":
                       made.client.client_id, "client_secret": made.secret}).json()["access_token"]
    issued = httpx.get(f"{server}/v1/organizations/{f.HUAWEI}/credit-report",
                       headers={"Authorization": f"Bearer {token}"})
    assert issued.status_code == 200, issued.text
    report_id = issued.json()["report_id"]

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{server}/reports/{report_id}")
    assert page.inner_text("[data-testid=report-organization]") == "华为技术有限公司"
    assert page.get_attribute("[data-testid=verify-url]", "href") == f"{server}/verify/{report_id}"
    assert page.locator(".qr svg").count() == 1
    shot(page, "6-credit-report", backend)
    printed = page.pdf(format="A4", print_background=True)
    assert printed.startswith(b"%PDF")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"{backend}-6-credit-report-printed.pdf").write_bytes(printed)
    jws = page.inner_text("[data-testid=jws]").strip()
    assert jws == issued.json()["jws"]

    page.goto(f"{server}/verify")
    page.fill("#jws", jws)
    page.click("[data-testid=verify]")
    page.wait_for_selector("[data-testid=verdict-line]")
    assert page.inner_text("[data-testid=verdict-line]") == "真实有效：本平台出具，内容未被篡改"
    assert page.inner_text("[data-testid=report-organization]") == "华为技术有限公司"
    assert page.locator("[data-testid=no-changes]").count() == 1
    shot(page, "7-report-verified", backend)
    page.close()
