"""A date or a moment is ISO 8601, as the document says. Pydantic alone reads a number, or a
string of digits, as Unix time, so `since=20260101` meant the 23rd of August 1970 and a decision
dated `0` was decided on New Year's Day 1970: answered, not refused. Found by the fuzzer's
`negative_data_rejection` (tests/test_fuzzing.py)."""

import pytest

from tests import factories as f
from tests.test_bad_input import nothing_written

HUAWEI = f.HUAWEI


@pytest.fixture
def a(client, parties):
    client.put(f"/v1/organizations/{HUAWEI}", headers=parties["a"].headers, json={"name": "华为技术有限公司"})
    return parties["a"].headers


@pytest.mark.parametrize("number", ["20260101", "-8.3e-93"])
@pytest.mark.parametrize("path, name", [
    ("/v1/public/lists/black", "since"), ("/v1/public/lists/black/export", "since"),
    (f"/v1/organizations/{HUAWEI}/credit-check", "as_of"), ("/v1/admin/audit", "since"), ("/v1/admin/audit", "until"),
])
def test_a_number_in_a_query_is_not_a_date(client, parties, a, path, name, number) -> None:
    headers = parties["admin"].headers if "/admin/" in path else a
    response = client.get(path, params={name: number}, headers=headers)
    assert response.status_code == 422, response.text
    assert name in response.json()["detail"]


@pytest.mark.parametrize("number", [0, "20260101"])
def test_a_number_in_a_body_is_not_a_date(client, parties, a, db, number) -> None:
    endpoint = client.post("/v1/webhooks/endpoints", headers=parties["hooks"].headers,
                           json={"url": "http://127.0.0.1:9/hook"}).json()["id"]
    replay = client.post(f"/v1/webhooks/endpoints/{endpoint}/replay", headers=parties["hooks"].headers,
                         json={"since": number})
    assert replay.status_code == 422, replay.text
    with nothing_written(db):
        violation = client.post(f"/v1/organizations/{HUAWEI}/violations", headers=a,
                                json=f.violation().model_dump(mode="json", exclude_none=True) | {"decided_on": number})
    assert violation.status_code == 422, violation.text
    assert "decided_on" in violation.json()["detail"]


def test_iso_dates_and_moments_still_answer(client, parties, a) -> None:
    assert client.get("/v1/public/lists/black", params={"since": "2026-01-01"}).status_code == 200
    assert client.get("/v1/admin/audit", params={"since": "2026-01-01T09:00", "until": "2026-12-31T00:00:00Z"},
                      headers=parties["admin"].headers).status_code == 200
