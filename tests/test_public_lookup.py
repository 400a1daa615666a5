"""GET /v1/public/organizations/{code}: what anyone sees, over HTTP against the real database."""

from datetime import date

import pytest

from service.records import changes, publishing
from tests import factories as f

PROBLEM = "application/problem+json"


@pytest.fixture
def huawei(unit_of_work, clock):
    with unit_of_work() as session:
        f.make_department(session, now=clock.now())
        f.make_department(session, now=clock.now(), code="SZTAX", name="国家税务总局深圳市税务局", kind="tax")
        return f.make_organization(session, now=clock.now(), code=f.HUAWEI, name="华为技术有限公司",
                                   legal_representative="徐直军")


def publish(unit_of_work, clock, fields, department="SZAMR", code=f.HUAWEI, **kwargs):
    with unit_of_work() as session:
        return publishing.publish(session, code, fields, department_code=department, now=clock.now(), **kwargs).record


class TestCodes:
    def test_wrong_check_character_is_422_naming_the_expected_one(self, client) -> None:
        response = client.get("/v1/public/organizations/914403001922038217")
        assert response.status_code == 422
        assert response.headers["content-type"] == PROBLEM
        body = response.json()
        assert body["detail"] == "check character should be 6, got 7"
        assert body["errors"] == [{"loc": ["path", "code"], "msg": "check character should be 6, got 7",
                                   "type": "invalid_code"}]

    @pytest.mark.parametrize("typed", ["9144 0300 1922 0382 16", "91440300-19220382-16",
                                       "９１４４０３００１９２２０３８２１６", "19220382-1", "192203821"])
    def test_any_typed_form_and_legacy_code_answer_the_canonical_code(self, client, huawei, typed) -> None:
        response = client.get(f"/v1/public/organizations/{typed}")
        assert response.status_code == 200
        assert response.json()["code"] == f.HUAWEI
        assert response.json()["org_code"] == "19220382-1"

    def test_valid_unknown_code_is_404(self, client, huawei) -> None:
        response = client.get("/v1/public/organizations/91440300708461136T")
        assert response.status_code == 404
        assert response.headers["content-type"] == PROBLEM
        assert "91440300708461136T" in response.json()["detail"]

    @pytest.mark.parametrize("hostile", ["%25_%5C", "' OR 1=1 --", "😀" * 18, "x" * 65])
    def test_hostile_input_is_a_clear_422(self, client, huawei, hostile) -> None:
        response = client.get(f"/v1/public/organizations/{hostile}")
        assert response.status_code == 422
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["detail"]


class TestProfile:
    def test_master_data_region_and_no_private_fields(self, client, huawei) -> None:
        body = client.get(f"/v1/public/organizations/{f.HUAWEI}").json()
        assert body["name"] == "华为技术有限公司"
        assert (body["region_code"], body["province_zh"], body["province_en"]) == ("440300", "广东省", "Guangdong")
        assert (body["status"], body["status_zh"]) == ("operating", "存续")
        assert body["legal_representative"] == "徐直军"
        assert "address" not in body
        assert (body["grade"], body["list_status"], body["records"]) == (None, "none", [])

    def test_current_grade_is_the_latest_public_rating(self, client, huawei, unit_of_work, clock) -> None:
        publish(unit_of_work, clock, f.rating(grade="A", evaluated_on=date(2025, 1, 1)))
        latest = publish(unit_of_work, clock, f.rating(grade="AAA", evaluated_on=date(2026, 1, 1)))
        publish(unit_of_work, clock, f.rating(grade="D", evaluated_on=date(2026, 2, 1)), visibility="shared")
        grade = client.get(f"/v1/public/organizations/{f.HUAWEI}").json()["grade"]
        assert (grade["code"], grade["label_zh"], grade["label_en"]) == ("AAA", "优秀", "Excellent")
        assert grade["record_id"] == latest.id

    def test_only_public_active_records_in_their_window(self, client, huawei, unit_of_work, clock) -> None:
        shown = publish(unit_of_work, clock, f.violation(decided_on=date(2026, 5, 1)))
        publish(unit_of_work, clock, f.violation(), visibility="shared")
        publish(unit_of_work, clock, f.violation(), visibility="restricted", shared_with=["SZTAX"])
        publish(unit_of_work, clock, f.violation(severity="minor", decided_on=date(2025, 12, 1)))  # ended 2026-03-01
        publish(unit_of_work, clock, f.violation(severity="minor", penalty_types=["warning"], fine_amount=None))
        publish(unit_of_work, clock, f.list_entry("red", effective_on=date(2026, 7, 1)))  # takes effect later
        withdrawn = publish(unit_of_work, clock, f.violation())
        with unit_of_work() as session:
            changes.withdraw(session, withdrawn.id, department_code="SZAMR", reason="撤销", now=clock.now())

        body = client.get(f"/v1/public/organizations/{f.HUAWEI}").json()
        assert [r["id"] for r in body["records"]] == [shown.id]
        summary = body["records"][0]["summary"]
        assert summary["decision_no"] == shown.decision_no
        assert summary["category"] == "产品质量抽查不合格"
        assert summary["penalty"] == "警告，罚款人民币5万元"
        assert "internal_notes" not in summary
        assert "13800000000" not in client.get(f"/v1/public/organizations/{f.HUAWEI}").text

    def test_publicity_ends_on_the_day_the_window_closes(self, client, huawei, unit_of_work, clock) -> None:
        publish(unit_of_work, clock, f.violation(severity="minor", decided_on=date(2026, 4, 1)))  # ends 07-01
        assert len(client.get(f"/v1/public/organizations/{f.HUAWEI}").json()["records"]) == 1
        clock.advance(days=16)  # 2026-07-01 10:00 CST
        assert client.get(f"/v1/public/organizations/{f.HUAWEI}").json()["records"] == []

    def test_list_status(self, client, huawei, unit_of_work, clock) -> None:
        publish(unit_of_work, clock, f.list_entry("red"))
        assert client.get(f"/v1/public/organizations/{f.HUAWEI}").json()["list_status"] == "red"
        publish(unit_of_work, clock, f.list_entry("black"), department="SZTAX")
        body = client.get(f"/v1/public/organizations/{f.HUAWEI}").json()
        assert body["list_status"] == "black"
        assert [r["summary"]["list"] for r in body["records"] if r["kind"] == "list_entry"] == ["black"]

    def test_correction_shows_the_new_version(self, client, huawei, unit_of_work, clock) -> None:
        record = publish(unit_of_work, clock, f.violation())
        with unit_of_work() as session:
            changes.correct(session, record.id, f.violation(decision_no=record.decision_no, penalty="罚款人民币3万元",
                                                            fine_amount="30000"),
                            department_code="SZAMR", reason="金额更正", now=clock.now())
        shown = client.get(f"/v1/public/organizations/{f.HUAWEI}").json()["records"][0]
        assert (shown["version"], shown["summary"]["penalty"]) == (2, "罚款人民币3万元")
