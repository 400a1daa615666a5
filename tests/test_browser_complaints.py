"""A person files a complaint (投诉举报) in a real Chromium against the real server: from the
organization's page to the form, a ticket and a secret, then follows it on the status page while
the market regulator accepts and closes it. The mobile typed into the description never comes
back unmasked. Screenshots go to test-artifacts/."""

import re

import httpx

from service.access import clients
from tests import factories as f
from tests.masking import find_personal_data
from tests.test_browser import browser, server, shot  # noqa: F401 (fixtures: the live server and Chromium)

MOBILE = "13912345678"


def _handler_token(base: str, unit_of_work, clock) -> dict[str, str]:
    with unit_of_work() as session:
        made = clients.create(session, "SZAMR", name="12315", scopes=["complaints:handle"], now=clock.now())
    token = httpx.post(f"{base}/v1/auth/token", data={"grant_type": "client_credentials", "client_id":
                       made.client.client_id, "client_secret": made.secret}).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _follow(page, base: str, ticket: str, secret: str) -> None:
    page.goto(base + "/complaints")
    page.fill("#ticket", ticket)
    page.fill("#secret", secret)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=complaint-status]")


def test_file_a_complaint_and_follow_it(server, browser, database_url, unit_of_work, clock) -> None:  # noqa: F811
    backend = "pg" if database_url.startswith("postgresql") else "sqlite"
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server + f"/organizations/{f.HUAWEI}")
    page.click("[data-testid=complain]")
    page.wait_for_selector("[data-testid=file-complaint]")
    assert page.input_value("#organization") == f.HUAWEI
    # Too short a description: refused with the reason, what was typed kept.
    page.fill("#description", "太短")
    page.evaluate("document.querySelector('#description').removeAttribute('minlength')")
    page.click("[data-testid=file-complaint]")
    page.wait_for_selector("[data-testid=complaint-error]")
    assert page.input_value("#organization") == f.HUAWEI
    page.select_option("#category", "false_labelling")
    page.fill("#description", f"充电器标称快充65W，实测只有10W，请联系我{MOBILE}。")
    page.fill("#evidence_urls", "https://example.org/test-report.pdf")
    page.fill("#contact", f"王先生 {MOBILE}")
    page.check("input[name=anonymous]")
    shot(page, "complaint-1-form", backend)
    page.click("[data-testid=file-complaint]")
    page.wait_for_selector("[data-testid=ticket]")
    ticket, secret = page.inner_text("[data-testid=ticket]"), page.inner_text("[data-testid=secret]")
    assert re.fullmatch(r"cmp_[0-9A-Z]{26}", ticket) and len(secret) >= 40
    assert MOBILE not in page.content()
    shot(page, "complaint-2-filed", backend)

    page.click("[data-testid=follow-complaint]")
    page.fill("#ticket", ticket)
    page.fill("#secret", secret)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=complaint-status]")
    assert page.inner_text("[data-testid=status]") == "待受理"
    assert "****" in page.inner_text("[data-testid=description]")
    assert MOBILE not in page.content() and find_personal_data(page.content()) == []
    shot(page, "complaint-3-status", backend)

    # The market regulator (SZAMR, Shenzhen) accepts and closes it; the filer reads the result.
    handler = _handler_token(server, unit_of_work, clock)
    for action, body in (("accept", {}), ("close", {"result": "经核查，商家已下架该产品并退款"})):
        response = httpx.post(f"{server}/v1/complaints/{ticket}/{action}", json=body, headers=handler)
        assert response.status_code == 200, response.text
    _follow(page, server, ticket, secret)
    assert page.inner_text("[data-testid=status]") == "已办结"
    assert page.inner_text("[data-testid=answer]") == "经核查，商家已下架该产品并退款"
    page.click("[data-testid=language-switch]")
    page.wait_for_url(re.compile(r"/complaints\?lang=en"))
    page.fill("#ticket", ticket)
    page.fill("#secret", secret)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=complaint-status]")
    assert page.inner_text("[data-testid=status]") == "Closed"
    shot(page, "complaint-4-closed-en", backend)
    page.fill("#ticket", ticket)
    page.fill("#secret", "not the secret at all")
    page.click("button[type=submit]")
    page.wait_for_selector("[role=alert]")
    assert page.inner_text("[role=alert]") == "No complaint with this ticket and secret."
    assert page.locator("[data-testid=complaint-status]").count() == 0
    page.close()
