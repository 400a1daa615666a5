"""The public edge: rate limits per client address, body size, page size, HTTP caching."""

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.middleware.rate_limit import RateLimiter
from tests import factories as f


@pytest.fixture
def limited(db, settings, clock):
    """An app whose public limit is 5 requests in a burst, then one a minute."""
    app = create_app(settings.model_copy(update={"public_rate_per_minute": 1, "public_rate_burst": 5,
                                                 "trusted_proxies": ["10.0.0.0/8"]}), clock=clock)
    with TestClient(app) as client:
        yield client


class TestRateLimit:
    def test_429_with_retry_after_and_failed_requests_count(self, limited) -> None:
        statuses = [limited.get("/v1/public/organizations/914403001922038217").status_code for _ in range(7)]
        assert statuses == [422] * 5 + [429] * 2
        refused = limited.get("/v1/public/organizations", params={"q": "华为"})
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert 1 <= int(refused.headers["retry-after"]) <= 60

    def test_department_api_and_health_are_not_public_limited(self, limited) -> None:
        for _ in range(6):
            limited.get("/v1/public/lists/black")
        assert limited.get("/healthz").status_code == 200
        assert limited.get("/v1/organizations/914403001922038216").status_code == 401

    def test_forwarded_address_counts_only_from_a_trusted_proxy(self, db, settings, clock) -> None:
        app = create_app(settings.model_copy(update={"public_rate_per_minute": 1, "public_rate_burst": 2,
                                                     "trusted_proxies": ["127.0.0.0/8"]}), clock=clock)
        # TestClient's peer is "testclient", not an address: it is not a trusted proxy, so
        # X-Forwarded-For is ignored and spoofing it does not buy a fresh budget.
        with TestClient(app) as client:
            statuses = [client.get("/lists/black", headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
                        for i in range(3)]
        assert statuses == [200, 200, 429]

    def test_limiter_trusts_the_proxy_header_only_from_proxies(self) -> None:
        from api.middleware.rate_limit import ClientAddress

        addresses = ClientAddress(["10.0.0.0/8"], "X-Forwarded-For")
        scope = {"client": ("10.1.2.3", 5000), "headers": [(b"x-forwarded-for", b"198.51.100.7, 10.9.9.9")]}
        assert addresses.of(scope) == "198.51.100.7"
        assert addresses.of(scope | {"client": ("203.0.113.9", 5000)}) == "203.0.113.9"

    def test_gcra_refills_over_time(self) -> None:
        limiter = RateLimiter(per_minute=60, burst=2)
        assert [limiter.retry_after("k", now=100.0) for _ in range(3)][:2] == [0.0, 0.0]
        assert limiter.retry_after("k", now=100.0) > 0
        assert limiter.retry_after("k", now=102.1) == 0.0


class TestLimits:
    def test_oversized_body_is_413_without_reading_it(self, client, parties) -> None:
        response = client.put(f"/v1/organizations/{f.HUAWEI}", headers=parties["a"].headers | {
            "content-type": "application/json"}, content=b"{" + b" " * (1024 * 1024 + 10) + b"}")
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"

    def test_page_size_cap(self, client) -> None:
        assert client.get("/v1/public/lists/black", params={"limit": 201}).status_code == 422
        assert client.get("/v1/public/lists/black", params={"limit": 200}).status_code == 200


class TestCaching:
    def test_etag_and_304(self, client, unit_of_work, clock) -> None:
        with unit_of_work() as session:
            f.make_organization(session, now=clock.now(), code=f.HUAWEI, name="华为技术有限公司")
        first = client.get(f"/v1/public/organizations/{f.HUAWEI}")
        assert first.headers["cache-control"] == "public, max-age=60"
        etag = first.headers["etag"]
        again = client.get(f"/v1/public/organizations/{f.HUAWEI}", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
        with unit_of_work() as session:
            f.make_organization(session, now=clock.now(), code=f.HUAWEI, name="华为终端有限公司")
        changed = client.get(f"/v1/public/organizations/{f.HUAWEI}", headers={"If-None-Match": etag})
        assert changed.status_code == 200 and changed.headers["etag"] != etag

    def test_pages_and_department_answers_are_not_cached(self, client, parties) -> None:
        page = client.get("/lists/black")
        assert page.headers["cache-control"] == "no-store" and "etag" not in page.headers
        private = client.get(f"/v1/organizations/{f.HUAWEI}", headers=parties["a"].headers)
        assert "etag" not in private.headers and "public" not in private.headers.get("cache-control", "")


def test_chunked_oversized_body_is_refused_too(client, parties) -> None:
    def chunks():
        for _ in range(20):
            yield b" " * (64 * 1024)

    response = client.put(f"/v1/organizations/{f.HUAWEI}", headers=parties["a"].headers | {
        "content-type": "application/json"}, content=chunks())
    assert response.status_code == 413
