"""Rule set versions: an administrator publishes new rules effective from a date; decisions are
judged by the version in force on their decision date and keep it; bad rules are refused whole."""

from datetime import date

import pytest

from tests import factories as f
from tests.test_public_intake import objection

HUAWEI = f.HUAWEI


def violation(client, headers, decided_on: date) -> dict:
    response = client.post(f"/v1/organizations/{HUAWEI}/violations", headers=headers,
                           json=f.violation(decided_on=decided_on).model_dump(mode="json", exclude_none=True))
    assert response.status_code == 201, response.text
    return response.json()


def test_decisions_follow_the_version_in_force_on_their_date(client, parties, clock) -> None:
    admin, a = parties["admin"].headers, parties["a"].headers
    client.put(f"/v1/organizations/{HUAWEI}", headers=a, json={"name": "华为技术有限公司"})
    published = client.post("/v1/admin/rule-sets", headers=admin, json={
        "effective_from": "2026-06-20",
        "changes": {"objection_deadline_days": 30, "violation_publicity": {"general": {"min_months": 1,
                                                                                       "max_months": 6}}}})
    assert published.status_code == 201, published.text
    new = published.json()
    assert new["version"] == 2 and new["rules"]["violation_publicity"]["serious"]["max_months"] == 36  # merged

    before = violation(client, a, date(2026, 6, 1))
    clock.advance(days=7)  # 2026-06-22
    after = violation(client, a, date(2026, 6, 21))
    assert before["ends_on"] == "2027-06-01" and before["rule_set_id"] != new["id"]
    assert after["ends_on"] == "2026-12-21" and after["rule_set_id"] == new["id"]

    corrected = client.post(f"/v1/records/{before['id']}/corrections", headers=a, json={
        "reason": "更正罚款金额", "fields": f.violation(decided_on=date(2026, 6, 1), fine_amount="1000")
        .model_dump(mode="json", exclude_none=True)}).json()
    assert corrected["rule_set_id"] == before["rule_set_id"] and corrected["ends_on"] == "2027-06-01"

    filed = client.post("/v1/public/objections", json=objection(after["id"])).json()
    assert filed["deadline"] == "2026-07-22"  # 30 days under the new version
    versions = client.get("/v1/admin/rule-sets", headers=admin).json()
    assert [v["version"] for v in versions] == [1, 2]


@pytest.mark.parametrize(("body", "problem"), [
    ({"effective_from": "2026-06-01", "changes": {}}, "in the past"),
    ({"effective_from": "2026-07-01", "changes": {"violation_publicity": {"general": {"min_months": 9,
                                                                                      "max_months": 6}}}},
     "more than max_months"),
    ({"effective_from": "2026-07-01", "changes": {"objection_deadline_days": 0}}, "objection_deadline_days"),
    ({"effective_from": "2026-07-01", "changes": {"publicity_forever": True}}, "publicity_forever"),
    ({"effective_from": "2026-07-01", "changes": {"violation_publicity": {"grave": {"min_months": 1,
                                                                                    "max_months": 2}}}},
     "minor, general and serious"),
])
def test_bad_rules_are_refused_and_nothing_is_published(client, parties, body, problem) -> None:
    admin = parties["admin"].headers
    response = client.post("/v1/admin/rule-sets", headers=admin, json=body)
    assert response.status_code == 422 and problem in response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [v["version"] for v in client.get("/v1/admin/rule-sets", headers=admin).json()] == [1]


def test_a_new_version_cannot_take_effect_before_the_newest(client, parties) -> None:
    admin = parties["admin"].headers
    assert client.post("/v1/admin/rule-sets", headers=admin, json={
        "effective_from": "2028-01-01", "changes": {"objection_deadline_days": 15}}).status_code == 201
    earlier = client.post("/v1/admin/rule-sets", headers=admin, json={
        "effective_from": "2027-01-01", "changes": {"objection_deadline_days": 10}})
    assert earlier.status_code == 422 and "cannot take effect before" in earlier.text
