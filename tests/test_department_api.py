"""The department API over HTTP: push, read, correct, withdraw, credit check; ownership and
visibility; mass assignment; idempotency."""

import pytest
from sqlmodel import select

from db.tables import AuditEntry, Record
from tests import factories as f

HUAWEI = f.HUAWEI


def violation_body(**overrides):
    body = f.violation(**{k: v for k, v in overrides.items() if k not in ("visibility", "shared_with")})
    data = body.model_dump(mode="json", exclude_none=True)
    data.update({k: v for k, v in overrides.items() if k in ("visibility", "shared_with")})
    return data


def black_entry_body(**overrides):
    data = f.list_entry("black").model_dump(mode="json", exclude_none=True) | {"code": HUAWEI}
    return data | overrides


@pytest.fixture
def registered(client, parties):
    response = client.put(f"/v1/organizations/{HUAWEI}", headers=parties["a"].headers,
                          json={"name": "华为技术有限公司", "legal_representative": "徐直军", "address": "深圳市龙岗区"})
    assert response.status_code == 201, response.text
    return response.json()


def push(client, party, **overrides):
    response = client.post(f"/v1/organizations/{HUAWEI}/violations", headers=party.headers,
                           json=violation_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


class TestRegisterOrganization:
    def test_created_then_updated(self, client, parties, registered) -> None:
        assert registered["code"] == HUAWEI and registered["registered_by"] == "SZAMR"
        again = client.put(f"/v1/organizations/{HUAWEI.lower()}", headers=parties["a"].headers,
                           json={"name": "华为技术有限公司", "status": "operating"})
        assert again.status_code == 200

    def test_another_kind_of_department_cannot_rewrite_master_data(self, client, parties, registered) -> None:
        response = client.put(f"/v1/organizations/{HUAWEI}", headers=parties["b"].headers,
                              json={"name": "别的名字"})
        assert response.status_code == 403
        assert client.get(f"/v1/public/organizations/{HUAWEI}").json()["name"] == "华为技术有限公司"

    def test_region_cannot_be_set_by_the_client(self, client, parties) -> None:
        response = client.put(f"/v1/organizations/{HUAWEI}", headers=parties["a"].headers,
                              json={"name": "华为技术有限公司", "region_code": "110000"})
        assert response.status_code == 422


class TestDoneWhen:
    def test_push_share_restrict_public_and_audit(self, client, parties, registered) -> None:
        a, b = parties["a"], parties["b"]
        public = push(client, a)
        shared = push(client, a, visibility="shared")
        restricted = push(client, a, visibility="restricted")
        black = client.post("/v1/list-entries", headers=a.headers, json=black_entry_body())
        assert black.status_code == 201

        seen_by_b = {r["id"] for r in client.get(f"/v1/organizations/{HUAWEI}", headers=b.headers).json()["records"]}
        assert seen_by_b == {public["id"], shared["id"], black.json()["id"]}
        assert client.get(f"/v1/records/{restricted['id']}", headers=b.headers).status_code == 404
        seen_by_a = {r["id"] for r in client.get(f"/v1/organizations/{HUAWEI}", headers=a.headers).json()["records"]}
        assert restricted["id"] in seen_by_a

        profile = client.get(f"/v1/public/organizations/{HUAWEI}").json()
        assert {r["id"] for r in profile["records"]} == {public["id"], black.json()["id"]}
        assert profile["list_status"] == "black"

        admin = parties["admin"].headers
        entries = client.get("/v1/admin/audit", headers=admin, params={"limit": 200}).json()["items"]
        actions = [(e["department"], e["action"], e["outcome"]) for e in reversed(entries)]
        assert actions[:5] == [("SZAMR", "put_organization", "ok")] + [("SZAMR", "create_violation", "ok")] * 3 + \
            [("SZAMR", "create_list_entry", "ok")]
        assert ("SZTAX", "get_record", "not_found") in actions
        assert ("SZTAX", "get_organization", "ok") in actions


class TestAnswers:
    @pytest.mark.parametrize("kind", ["rating", "violation", "disclosure", "black", "red"])
    def test_a_write_answers_with_what_is_stored(self, client, parties, registered, kind) -> None:
        """The answer to a write is built from the rows it wrote, not read back: it must say exactly
        what a read of the record says (dates, times, the derived term, versions, grants)."""
        a = parties["a"].headers
        placement = {"visibility": "restricted", "shared_with": ["SZTAX", "SZAMR"]}
        if kind in ("black", "red"):
            body = f.list_entry(kind).model_dump(mode="json", exclude_none=True) | {"code": HUAWEI}
            written = client.post("/v1/list-entries", headers=a, json=body | placement)
        else:
            fields = getattr(f, kind)().model_dump(mode="json", exclude_none=True)
            written = client.post(f"/v1/organizations/{HUAWEI}/{kind}s", headers=a, json=fields | placement)
        assert written.status_code == 201, written.text
        answer = written.json()
        assert answer["shared_with"] == ["SZTAX"] and answer["ends_on"] != "" and len(answer["versions"]) == 1
        assert client.get(f"/v1/records/{answer['id']}", headers=a).json() == answer


class TestVisibility:
    def test_restricted_record_named_department_sees_it(self, client, parties, registered) -> None:
        record = push(client, parties["a"], visibility="restricted", shared_with=["SZTAX"])
        assert client.get(f"/v1/records/{record['id']}", headers=parties["b"].headers).status_code == 200
        assert client.get(f"/v1/records/{record['id']}", headers=parties["reader"].headers).status_code == 404

    def test_a_grant_opens_its_own_record_only(self, client, parties, registered) -> None:
        shared = push(client, parties["a"], visibility="restricted", shared_with=["SZTAX"])
        other = push(client, parties["a"], visibility="restricted")
        assert client.get(f"/v1/records/{shared['id']}", headers=parties["b"].headers).status_code == 200
        assert client.get(f"/v1/records/{other['id']}", headers=parties["b"].headers).status_code == 404

    def test_unknown_and_invisible_records_answer_alike(self, client, parties, registered) -> None:
        hidden = push(client, parties["a"], visibility="restricted")
        unknown = "rec_" + "0" * 26
        invisible = client.get(f"/v1/records/{hidden['id']}", headers=parties["b"].headers)
        missing = client.get(f"/v1/records/{unknown}", headers=parties["b"].headers)
        assert invisible.status_code == missing.status_code == 404
        assert invisible.json()["title"] == missing.json()["title"]

    def test_counts_exclude_restricted_records(self, client, parties, registered) -> None:
        push(client, parties["a"], visibility="restricted")
        push(client, parties["a"], visibility="shared")
        check_b = client.get(f"/v1/organizations/{HUAWEI}/credit-check", headers=parties["b"].headers).json()
        check_a = client.get(f"/v1/organizations/{HUAWEI}/credit-check", headers=parties["a"].headers).json()
        assert (check_a["active_violations"], check_b["active_violations"]) == (2, 1)


class TestOwnership:
    def test_other_department_cannot_correct(self, client, parties, registered, unit_of_work) -> None:
        record = push(client, parties["a"])
        response = client.post(f"/v1/records/{record['id']}/corrections", headers=parties["b"].headers,
                               json={"reason": "改", "fields": violation_body(
                                   decision_no=record["details"]["decision_no"])})
        assert response.status_code == 403
        after = client.get(f"/v1/records/{record['id']}", headers=parties["a"].headers).json()
        assert (after["version"], after["details"]) == (1, record["details"])
        with unit_of_work() as session:
            denied = session.exec(select(AuditEntry).where(AuditEntry.outcome == "denied")).all()
        assert [(d.department_code, d.action, d.status) for d in denied] == [("SZTAX", "correct_record", 403)]

    def test_other_department_cannot_withdraw(self, client, parties, registered) -> None:
        record = push(client, parties["a"])
        response = client.post(f"/v1/records/{record['id']}/withdrawal", headers=parties["b"].headers,
                               json={"reason": "撤"})
        assert response.status_code == 403
        assert client.get(f"/v1/records/{record['id']}", headers=parties["a"].headers).json()["status"] == "active"

    def test_owner_corrects_and_withdraws(self, client, parties, registered) -> None:
        record = push(client, parties["a"])
        fields = record["details"] | {"penalty": "罚款人民币3万元", "fine_amount": "30000"}
        fields.pop("internal_notes")
        corrected = client.post(f"/v1/records/{record['id']}/corrections", headers=parties["a"].headers,
                                json={"reason": "金额更正", "fields": fields})
        assert corrected.status_code == 200, corrected.text
        assert [v["version"] for v in corrected.json()["versions"]] == [1, 2]
        withdrawn = client.post(f"/v1/records/{record['id']}/withdrawal", headers=parties["a"].headers,
                                json={"reason": "复议撤销"})
        assert withdrawn.json()["status"] == "withdrawn"
        assert withdrawn.json()["status_changes"][-1]["reason"] == "复议撤销"

    def test_correction_fields_are_validated_as_the_records_kind(self, client, parties, registered) -> None:
        record = push(client, parties["a"])
        response = client.post(f"/v1/records/{record['id']}/corrections", headers=parties["a"].headers,
                               json={"reason": "x", "fields": {"grade": "AA", "evaluated_on": "2026-01-01"}})
        assert response.status_code == 422
        locs = {tuple(e["loc"]) for e in response.json()["errors"]}
        assert ("body", "fields", "decision_no") in locs and ("body", "fields", "grade") in locs

    def test_list_entry_changes_need_lists_write(self, client, parties, registered, client_for) -> None:
        entry = client.post("/v1/list-entries", headers=parties["a"].headers, json=black_entry_body()).json()
        # The same department, a client with records:write only.
        response = client.post(f"/v1/records/{entry['id']}/withdrawal", headers=client_for("SZAMR", "records:write"),
                               json={"reason": "x"})
        assert response.status_code == 403
        assert "lists:write" in response.json()["detail"]

    def test_a_violation_changes_with_records_write_and_not_with_lists_write(self, client, parties, registered,
                                                                            client_for) -> None:
        # A restricted one: the owner changes what no other department can see.
        record = push(client, parties["a"], visibility="restricted")
        withdrawal = f"/v1/records/{record['id']}/withdrawal"
        refused = client.post(withdrawal, headers=client_for("SZAMR", "lists:write"), json={"reason": "x"})
        assert refused.status_code == 403 and "records:write" in refused.json()["detail"]
        done = client.post(withdrawal, headers=client_for("SZAMR", "records:write"), json={"reason": "复议撤销"})
        assert done.status_code == 200 and done.json()["status"] == "withdrawn"


class TestMassAssignment:
    @pytest.mark.parametrize("field", ["department_code", "department", "version", "status", "id",
                                       "created_at", "rule_set_id", "ends_on"])
    def test_server_owned_fields_are_refused(self, client, parties, registered, unit_of_work, field) -> None:
        body = violation_body() | {field: "SZTAX" if "department" in field else 7}
        response = client.post(f"/v1/organizations/{HUAWEI}/violations", headers=parties["a"].headers, json=body)
        assert response.status_code == 422
        assert field in str(response.json()["errors"])
        with unit_of_work() as session:
            assert session.exec(select(Record)).all() == []


class TestDuplicates:
    def test_same_decision_is_409_naming_the_record(self, client, parties, registered) -> None:
        body = violation_body()
        first = client.post(f"/v1/organizations/{HUAWEI}/violations", headers=parties["a"].headers, json=body)
        second = client.post(f"/v1/organizations/{HUAWEI}/violations", headers=parties["a"].headers, json=body)
        assert second.status_code == 409
        assert second.json()["existing_id"] == first.json()["id"]


class TestIdempotency:
    def test_replay_returns_the_first_response_and_writes_once(self, client, parties, registered,
                                                               unit_of_work) -> None:
        headers = parties["a"].headers | {"Idempotency-Key": "push-2026-0001"}
        body = violation_body()
        responses = [client.post(f"/v1/organizations/{HUAWEI}/violations", headers=headers, json=body)
                     for _ in range(3)]
        assert {r.status_code for r in responses} == {201}
        assert len({r.text for r in responses}) == 1
        assert responses[1].headers["Idempotent-Replayed"] == "true"
        with unit_of_work() as session:
            assert len(session.exec(select(Record)).all()) == 1

    def test_same_key_with_another_body_is_refused(self, client, parties, registered) -> None:
        headers = parties["a"].headers | {"Idempotency-Key": "k-1"}
        client.post(f"/v1/organizations/{HUAWEI}/violations", headers=headers, json=violation_body())
        other = client.post(f"/v1/organizations/{HUAWEI}/violations", headers=headers, json=violation_body())
        assert other.status_code == 422
        assert "different request" in other.json()["detail"]

    def test_keys_belong_to_their_client(self, client, parties, registered) -> None:
        body = violation_body()
        a = client.post(f"/v1/organizations/{HUAWEI}/violations",
                        headers=parties["a"].headers | {"Idempotency-Key": "same"}, json=body)
        b = client.post(f"/v1/organizations/{HUAWEI}/violations",
                        headers=parties["b"].headers | {"Idempotency-Key": "same"}, json=body)
        assert (a.status_code, b.status_code) == (201, 201)
        assert a.json()["id"] != b.json()["id"]


class TestCreditCheck:
    def test_summary_now_and_as_of(self, client, parties, registered, clock) -> None:
        a = parties["a"]
        client.post(f"/v1/organizations/{HUAWEI}/ratings", headers=a.headers,
                    json=f.rating(grade="AA").model_dump(mode="json", exclude_none=True))
        violation = push(client, a)
        clock.advance(days=10)  # 2026-06-25
        client.post("/v1/list-entries", headers=a.headers, json=black_entry_body())
        client.post(f"/v1/records/{violation['id']}/withdrawal", headers=a.headers, json={"reason": "撤销"})

        now = client.get(f"/v1/organizations/{HUAWEI}/credit-check", headers=a.headers).json()
        assert (now["black_listed"], now["red_listed"], now["grade"], now["active_violations"]) == \
            (True, False, "AA", 0)
        before = client.get(f"/v1/organizations/{HUAWEI}/credit-check", headers=a.headers,
                            params={"as_of": "2026-06-20"}).json()
        assert (before["black_listed"], before["active_violations"], before["as_of"]) == (False, 1, "2026-06-20")
        ancient = client.get(f"/v1/organizations/{HUAWEI}/credit-check", headers=a.headers,
                             params={"as_of": "2020-01-01"}).json()
        assert (ancient["grade"], ancient["active_violations"]) == (None, 0)

    def test_unknown_organization_is_404(self, client, parties) -> None:
        response = client.get("/v1/organizations/91440300708461136T/credit-check", headers=parties["a"].headers)
        assert response.status_code == 404
