"""Administration over HTTP: departments, clients, the audit log."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from db.session import transaction
from tests import factories as f


class TestDepartments:
    def test_create_and_list(self, client, parties) -> None:
        admin = parties["admin"].headers
        created = client.post("/v1/admin/departments", headers=admin,
                              json={"code": "GZCUSTOMS", "name": "广州海关", "kind": "customs", "region_code": "440100"})
        assert created.status_code == 201
        codes = [d["code"] for d in client.get("/v1/admin/departments", headers=admin).json()["items"]]
        assert codes == sorted(codes) and "GZCUSTOMS" in codes

    def test_duplicate_is_409(self, client, parties) -> None:
        response = client.post("/v1/admin/departments", headers=parties["admin"].headers,
                               json={"code": "SZAMR", "name": "重复", "kind": "other", "region_code": "440300"})
        assert response.status_code == 409

    @pytest.mark.parametrize("body", [{"code": "x y", "name": "名字", "kind": "other", "region_code": "440300"},
                                      {"code": "NEW", "name": "名字", "kind": "church", "region_code": "440300"},
                                      {"code": "NEW", "name": "名字", "kind": "other", "region_code": "44030"}])
    def test_invalid_department_is_422(self, client, parties, body) -> None:
        assert client.post("/v1/admin/departments", headers=parties["admin"].headers, json=body).status_code == 422


class TestClients:
    def test_secret_is_shown_once(self, client, parties) -> None:
        admin = parties["admin"].headers
        created = client.post("/v1/admin/departments/SZTAX/clients", headers=admin,
                              json={"name": "税务同步", "scopes": ["records:read"]})
        assert created.status_code == 201
        secret = created.json()["client_secret"]
        listed = client.get("/v1/admin/departments/SZTAX/clients", headers=admin)
        assert created.json()["client_id"] in listed.text and secret not in listed.text
        assert "secret" not in listed.text

    def test_unknown_scope_is_422_and_unknown_department_404(self, client, parties) -> None:
        admin = parties["admin"].headers
        assert client.post("/v1/admin/departments/SZTAX/clients", headers=admin,
                           json={"name": "x", "scopes": ["root"]}).status_code == 422
        assert client.post("/v1/admin/departments/NOPE/clients", headers=admin,
                           json={"name": "x", "scopes": ["records:read"]}).status_code == 404

    def test_revoking_twice_is_409(self, client, parties) -> None:
        admin = parties["admin"].headers
        assert client.delete(f"/v1/admin/clients/{parties['reader'].client_id}", headers=admin).status_code == 200
        assert client.delete(f"/v1/admin/clients/{parties['reader'].client_id}", headers=admin).status_code == 409
        assert client.delete("/v1/admin/clients/cli_nope", headers=admin).status_code == 404


class TestAudit:
    def test_filters_and_pages(self, client, parties) -> None:
        for _ in range(3):
            client.get(f"/v1/organizations/{f.HUAWEI}", headers=parties["b"].headers)  # 404s
        client.get(f"/v1/organizations/{f.HUAWEI}", headers=parties["a"].headers)
        admin = parties["admin"].headers
        mine = client.get("/v1/admin/audit", headers=admin, params={"department": "SZTAX"}).json()["items"]
        assert [(e["action"], e["outcome"], e["status"]) for e in mine] == [("get_organization", "not_found", 404)] * 3
        assert mine[0]["resource"] == f"/v1/organizations/{f.HUAWEI}" and mine[0]["request_id"]
        first = client.get("/v1/admin/audit", headers=admin, params={"limit": 2}).json()
        second = client.get("/v1/admin/audit", headers=admin, params={"limit": 2, "cursor": first["next_cursor"]}).json()
        ids = [e["id"] for e in first["items"] + second["items"]]
        assert ids == sorted(ids, reverse=True) and len(set(ids)) == 4

    def test_page_size_over_the_cap_is_422(self, client, parties) -> None:
        response = client.get("/v1/admin/audit", headers=parties["admin"].headers, params={"limit": 201})
        assert response.status_code == 422

    def test_bad_cursor_is_422(self, client, parties) -> None:
        response = client.get("/v1/admin/audit", headers=parties["admin"].headers, params={"cursor": "!!"})
        assert response.status_code == 422

    def test_request_id_is_returned_and_recorded_and_never_the_clients(self, client, parties) -> None:
        response = client.get(f"/v1/organizations/{f.HUAWEI}", headers=parties["a"].headers | {
            "X-Request-ID": "forged-0001-abcd"})
        assert response.headers["x-request-id"] != "forged-0001-abcd"
        entries = client.get("/v1/admin/audit", headers=parties["admin"].headers,
                             params={"department": "SZAMR"}).json()["items"]
        assert entries[0]["request_id"] == response.headers["x-request-id"]

    @pytest.mark.parametrize("statement", ["UPDATE audit_entry SET outcome = 'ok'", "DELETE FROM audit_entry"])
    def test_the_log_is_append_only_in_the_database(self, client, parties, db, statement) -> None:
        client.get(f"/v1/organizations/{f.HUAWEI}", headers=parties["a"].headers)
        with pytest.raises(DBAPIError, match="append-only"), transaction(db) as session:
            session.execute(text(statement))
