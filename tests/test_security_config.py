"""Security configuration: CORS off unless configured (and never with credentials), security
headers on every HTML page, and the log scan's idea of a secret matching the secrets the registry
really hands out (tests/conftest.py scans every log line of the run for them)."""

import base64
import hashlib
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests import factories as f
from tests.conftest import SECRET_SHAPES

PORTAL = "https://credit.example.gov.cn"
PREFLIGHT = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}


def _client_with(settings, clock, **changes) -> TestClient:
    return TestClient(create_app(settings.model_copy(update=changes), clock=clock), raise_server_exceptions=False)


class TestCors:
    def test_off_by_default(self, client) -> None:
        preflight = client.options("/v1/public/organizations?q=华为", headers={"Origin": PORTAL} | PREFLIGHT)
        assert "access-control-allow-origin" not in preflight.headers
        answer = client.get("/v1/public/lists/black", headers={"Origin": PORTAL})
        assert answer.status_code == 200 and "access-control-allow-origin" not in answer.headers

    def test_configured_origins_only_and_never_with_credentials(self, db, settings, clock) -> None:
        with _client_with(settings, clock, cors_origins=[PORTAL]) as client:
            allowed = client.options("/v1/records", headers={"Origin": PORTAL} | PREFLIGHT)
            assert allowed.status_code == 200
            assert allowed.headers["access-control-allow-origin"] == PORTAL
            assert "access-control-allow-credentials" not in allowed.headers
            other = client.options("/v1/records", headers={"Origin": "https://evil.example"} | PREFLIGHT)
            assert "access-control-allow-origin" not in other.headers
            answer = client.get("/v1/public/lists/black", headers={"Origin": PORTAL})
            assert answer.headers["access-control-allow-origin"] == PORTAL
            assert "etag" in answer.headers["access-control-expose-headers"].lower()

    def test_any_origin_shares_nothing_private(self, db, settings, clock) -> None:
        with _client_with(settings, clock, cors_origins=["*"]) as client:
            answer = client.get("/v1/public/lists/black", headers={"Origin": "https://anyone.example"})
            assert answer.headers["access-control-allow-origin"] == "*"
            assert "access-control-allow-credentials" not in answer.headers


@pytest.mark.parametrize("path", ["/", "/lists/black", f"/organizations/{f.HUAWEI}", "/organizations/12345",
                                  "/?q=华为", f"/organizations/{f.HUAWEI}/objection"])
def test_html_pages_carry_security_headers(client, path) -> None:
    response = client.get(path)
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy and "script-src" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"


def test_no_debug_mode(app) -> None:
    assert app.debug is False


def test_production_refuses_to_start_without_a_configured_signing_key(tmp_path) -> None:
    with pytest.raises(ValueError, match="REGISTRY_SIGNING_KEY"):
        Settings(environment="production", data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/x.db")


def test_the_log_scan_recognizes_every_secret_the_registry_hands_out(client, parties, hooked, receivers) -> None:
    admin = parties["admin"].headers
    made = client.post("/v1/admin/departments/SZAMR/clients", headers=admin,
                       json={"name": "scan", "scopes": ["records:read"]}).json()
    token = client.post("/v1/auth/token", data={"grant_type": "client_credentials", "client_id": made["client_id"],
                                                "client_secret": made["client_secret"]}).json()["access_token"]
    _, webhook_secret, _ = hooked(receivers().url)
    for secret in (made["client_secret"], token, f"Bearer {token}", webhook_secret):
        assert SECRET_SHAPES.search(f'{{"msg": "… {secret} …"}}'), secret


class TestApiDocs:
    @pytest.mark.parametrize("path", ["/docs", "/redoc"])
    def test_assets_come_from_the_service_under_a_pinned_csp(self, client, path) -> None:
        page = client.get(path)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        hosts = {urlsplit(url).hostname for url in re.findall(r"https?://[^\s\"'<>)]+", page.text)}
        assert hosts <= {"testserver"}, hosts  # no CDN: an intranet has no internet
        assets = re.findall(r"(?:src|href)=\"([^\"]+)\"", page.text)
        kinds = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
        assert {Path(a).suffix for a in assets} >= ({".js"} if path == "/redoc" else {".js", ".css"})
        for asset in assets:
            answer = client.get(asset)
            assert answer.status_code == 200, asset
            assert answer.headers["content-type"].startswith(kinds[Path(asset).suffix]), asset
            assert answer.headers["x-content-type-options"] == "nosniff"
        policy = dict(d.strip().split(" ", 1) for d in page.headers["content-security-policy"].split(";"))
        inline = re.findall(r"<script>(.*?)</script>", page.text, flags=re.S)
        hashes = {f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in inline}
        assert set(policy["script-src"].split()) == {"'self'", *hashes}
        assert "unsafe" not in policy["script-src"] and policy["default-src"] == "'none'"
        assert policy["frame-ancestors"] == "'none'" and policy["img-src"] == "'self' data:"
        assert page.headers["x-content-type-options"] == "nosniff"

    def test_swagger_ui_styles_are_pinned_too(self, client) -> None:
        policy = client.get("/docs").headers["content-security-policy"]
        assert "style-src 'self';" in policy


def test_every_kind_of_response_says_nosniff(client, parties) -> None:
    big = {"content-type": "application/json", "content-length": str(10**9)}
    answers = {
        "api json": client.get("/healthz"),
        "public json": client.get("/v1/public/lists/black"),
        "problem 404": client.get(f"/v1/public/organizations/{f.HUAWEI}"),
        "problem 422": client.get("/v1/public/organizations/123"),
        "problem 401": client.get("/v1/records"),
        "problem 404 no route": client.get("/no/such/path"),
        "problem 413 from middleware": client.post("/v1/webhooks/endpoints", headers=big, content=b"{}"),
        "department json": client.get("/v1/records", headers=parties["reader"].headers),
        "html page": client.get("/"),
        "html 404": client.get("/organizations/914403001922038216"),
        "docs": client.get("/docs"),
        "openapi": client.get("/openapi.json"),
        "static": client.get("/static/site.css"),
        "csv export": client.get("/v1/public/lists/black/export"),
        "jwks": client.get("/.well-known/jwks.json"),
    }
    missing = {kind: answer.status_code for kind, answer in answers.items()
               if answer.headers.get("x-content-type-options") != "nosniff"}
    assert missing == {}
    assert answers["problem 413 from middleware"].status_code == 413
