"""Cases a security review found; each was a real hole before its fix."""

import csv
import io

import pytest
from sqlmodel import select

from db.tables import AuditEntry
from tests import factories as f

HUAWEI = f.HUAWEI


@pytest.fixture
def registered(client, parties):
    client.put(f"/v1/organizations/{HUAWEI}", headers=parties["a"].headers, json={"name": "华为技术有限公司"})


def entry(list_name: str, **overrides) -> dict:
    return f.list_entry(list_name).model_dump(mode="json", exclude_none=True) | {"code": HUAWEI} | overrides


def test_restricted_black_entry_neither_ends_nor_reveals_anything(client, parties, registered) -> None:
    red = client.post("/v1/list-entries", headers=parties["a"].headers, json=entry("red")).json()
    client.post("/v1/list-entries", headers=parties["b"].headers, json=entry("black", visibility="restricted"))
    assert client.get(f"/v1/public/organizations/{HUAWEI}").json()["list_status"] == "red"
    seen = client.get(f"/v1/records/{red['id']}", headers=parties["reader"].headers).json()
    assert seen["status"] == "active" and len(seen["status_changes"]) == 1


def test_black_entry_cannot_outlast_the_rule_set_term(client, parties, registered) -> None:
    response = client.post("/v1/list-entries", headers=parties["a"].headers,
                           json=entry("black", effective_on="2026-05-10", expires_on="2199-12-31"))
    assert response.status_code == 422
    assert "2029-05-10" in response.json()["detail"]


def test_failed_login_of_a_real_client_is_audited(client, parties, unit_of_work) -> None:
    client.post("/v1/auth/token", data={"grant_type": "client_credentials", "client_id": parties["b"].client_id,
                                        "client_secret": "wrong"})
    with unit_of_work() as session:
        failed = session.exec(select(AuditEntry).where(AuditEntry.action == "issue_token")).all()
    assert [(e.client_id, e.department_code, e.status, e.outcome) for e in failed] == \
        [(parties["b"].client_id, "SZTAX", 401, "unauthenticated")]


def test_token_requests_are_limited_per_address_whatever_the_client_id(client) -> None:
    statuses = [client.post("/v1/auth/token", data={"grant_type": "client_credentials", "client_id": f"cli_{i}",
                                                    "client_secret": "x"}).status_code for i in range(12)]
    assert statuses == [401] * 10 + [429] * 2


def test_a_new_client_secret_is_not_cacheable(client, parties) -> None:
    response = client.post("/v1/admin/departments/SZTAX/clients", headers=parties["admin"].headers,
                           json={"name": "x", "scopes": ["records:read"]})
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(("method", "path", "kwargs"), [
    ("post", "/v1/auth/token", {"data": {"grant_type": "client_credentials", "client_id": "cli_\x00",
                                         "client_secret": "x"}}),
    ("put", f"/v1/organizations/{HUAWEI}", {"json": {"name": "华为\x00技术有限公司"}}),
    ("get", "/v1/public/organizations", {"params": {"q": "华\x00为"}}),
])
def test_nul_characters_are_a_4xx_on_every_database(client, parties, method, path, kwargs) -> None:
    headers = parties["a"].headers if path.startswith("/v1/organizations") else {}
    response = getattr(client, method)(path, headers=headers, **kwargs)
    assert 400 <= response.status_code < 500, response.text


def test_a_lists_only_client_can_withdraw_its_list_entry(client, parties, registered, client_for) -> None:
    headers = client_for("SZAMR", "lists:write")
    created = client.post("/v1/list-entries", headers=headers, json=entry("black"))
    withdrawn = client.post(f"/v1/records/{created.json()['id']}/withdrawal", headers=headers, json={"reason": "撤销"})
    assert (created.status_code, withdrawn.status_code) == (201, 200)
    violation = client.post(f"/v1/organizations/{HUAWEI}/violations", headers=parties["a"].headers,
                            json=f.violation().model_dump(mode="json", exclude_none=True)).json()
    assert client.post(f"/v1/records/{violation['id']}/withdrawal", headers=headers,
                       json={"reason": "x"}).status_code == 403


def test_csv_export_neutralizes_formulas(client, parties, registered) -> None:
    client.post("/v1/list-entries", headers=parties["a"].headers,
                json=entry("black", reason='=HYPERLINK("http://evil.example","点击")'))
    body = client.get("/v1/public/lists/black/export").content.decode("utf-8-sig")
    assert "'=HYPERLINK" in body and ',=HYPERLINK' not in body


@pytest.mark.parametrize("reason", ["＝HYPERLINK(\"http://evil.example\",\"点击\")", "＋1+cmd|' /C calc'!A0",
                                    "－2+3", "＠SUM(1+1)*cmd|' /C calc'!A0", "﹦1+1"])
def test_csv_export_neutralizes_full_width_formulas(client, parties, registered, reason) -> None:
    created = client.post("/v1/list-entries", headers=parties["a"].headers, json=entry("black", reason=reason))
    assert created.status_code == 201, created.text
    rows = list(csv.reader(io.StringIO(client.get("/v1/public/lists/black/export").content.decode("utf-8-sig"))))
    cells = [cell for row in rows[1:] for cell in row if reason in cell]
    assert cells == ["'" + reason]
