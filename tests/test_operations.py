"""Health, readiness and errors as problem details."""

import json

from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings

PROBLEM = "application/problem+json"


class TestHealth:
    def test_healthz(self, client) -> None:
        assert client.get("/healthz").json() == {"status": "ok"}

    def test_readyz_when_migrated(self, client) -> None:
        body = client.get("/readyz").json()
        assert body["status"] == "ready"
        assert body["migration"] == body["expected_migration"] is not None

    def test_readyz_is_503_on_an_unmigrated_database(self, tmp_path) -> None:
        app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}", data_dir=tmp_path,
                                  access_log=False))
        with TestClient(app) as client:
            response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["status"] == "not_ready"
        assert response.json()["migration"] is None


class TestProblems:
    def test_unknown_path_is_a_problem(self, client) -> None:
        response = client.get("/v1/nothing-here")
        assert response.status_code == 404
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["title"] == "Not Found"

    def test_wrong_method_is_a_problem(self, client) -> None:
        response = client.post("/healthz")
        assert (response.status_code, response.headers["content-type"]) == (405, PROBLEM)

    def test_unexpected_error_is_500_without_a_trace(self, client) -> None:
        def explode() -> None:
            raise RuntimeError("secret-token-123 leaked in a message")

        client.app.add_api_route("/explode", explode)
        response = client.get("/explode")
        assert response.status_code == 500
        assert response.headers["content-type"] == PROBLEM
        assert "secret-token-123" not in response.text
        assert "Traceback" not in response.text
        assert response.json()["title"] == "Internal Server Error"

    def test_unexpected_error_carries_the_request_id_the_log_has(self, client) -> None:
        # A route that really raises, added by the test: what is under test is the edge (the
        # trail and the handler of last resort), not the route.
        from tests.conftest import LOG_LINES

        def explode() -> None:
            raise RuntimeError("nothing handles this")

        client.app.add_api_route("/explode", explode)
        logged = len(LOG_LINES)
        response = client.get("/explode")
        assert response.status_code == 500
        request_id = response.headers["X-Request-ID"]
        assert len(request_id) == 32 and response.headers["X-Content-Type-Options"] == "nosniff"
        errors = [json.loads(line) for line in LOG_LINES[logged:] if '"unhandled error' in line]
        assert [e["request_id"] for e in errors] == [request_id]

    def test_validation_errors_do_not_echo_the_input(self, client) -> None:
        secret = "x" * 60 + "-SECRET"  # 67 characters: over the path's limit
        response = client.get(f"/v1/public/organizations/{secret}")
        assert response.status_code == 422
        assert "SECRET" not in response.text
        assert response.json()["errors"][0]["loc"] == ["path", "code"]


def test_metrics_behind_a_configured_token(settings, db, clock) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app

    app = create_app(settings.model_copy(update={"metrics_token": "scrape-me-please"}), clock=clock)
    with TestClient(app) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        answered = client.get("/metrics", headers={"Authorization": "Bearer scrape-me-please"})
        assert answered.status_code == 200 and "registry_events_head" in answered.text
