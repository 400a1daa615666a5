"""Refused credentials leave a trace. A token we signed but refuse (revoked client, missing scope,
wrong department) is in the audit log with its client and the reason; so is a failed login. A token
that fails verification is counted in /metrics by reason and logged with the request id, never
with the token, and gets no audit entry: nothing in it can be trusted to name a client."""

import json
import re
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlmodel import func, select

from db.tables import AuditEntry
from tests import factories as f
from tests.conftest import LOG_LINES
from tests.test_auth import segment, sign_es256

PROTECTED = f"/v1/organizations/{f.HUAWEI}"


@pytest.fixture
def real_key(app) -> tuple[str, ec.EllipticCurvePrivateKey]:
    path = sorted(Path(app.state.settings.keys_dir).glob("es256-*.pem"))[-1]
    return path.stem, serialization.load_pem_private_key(path.read_bytes(), password=None)


def claims_of(party, **overrides) -> dict:
    now = int(time.time())
    return {"iss": "credit-registry", "aud": "credit-registry-api", "sub": party.client_id, "dept": party.department,
            "scope": "records:read", "iat": now, "nbf": now, "exp": now + 600, "jti": "refused-1"} | overrides


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def audit_of(client, parties, client_id: str) -> list[dict]:
    return client.get("/v1/admin/audit", headers=parties["admin"].headers, params={"client_id": client_id}).json()["items"]


def audit_rows(unit_of_work) -> int:
    with unit_of_work() as session:
        return session.exec(select(func.count()).select_from(AuditEntry)).one()


def refused_count(client, reason: str) -> int:
    found = re.search(rf'^registry_tokens_refused_total{{reason="{reason}"}} (\d+)$', client.get("/metrics").text, re.M)
    assert found, f"no registry_tokens_refused_total for {reason}"
    return int(found.group(1))


class TestSignedButRefused:
    def test_a_revoked_clients_valid_token_is_audited_as_revoked(self, client, parties) -> None:
        b = parties["b"]
        assert client.delete(f"/v1/admin/clients/{b.client_id}", headers=parties["admin"].headers).status_code == 200
        response = client.get(PROTECTED, headers=b.headers)
        assert response.status_code == 401
        newest = audit_of(client, parties, b.client_id)[0]
        assert (newest["client_id"], newest["department"], newest["status"], newest["outcome"], newest["detail"]) == \
            (b.client_id, "SZTAX", 401, "unauthenticated", "revoked")
        assert newest["request_id"] == response.headers["x-request-id"]

    def test_a_missing_scope_is_audited_naming_it(self, client, parties) -> None:
        reader = parties["reader"]
        response = client.put(PROTECTED, headers=reader.headers, json={"name": "华为技术有限公司"})
        assert response.status_code == 403
        newest = audit_of(client, parties, reader.client_id)[0]
        assert (newest["department"], newest["status"], newest["outcome"], newest["detail"]) == \
            ("SZBANK", 403, "denied", "missing scope: records:write")

    def test_a_scope_the_record_kind_needs_is_audited_naming_it(self, client, parties, client_for,
                                                                 unit_of_work) -> None:
        client.put(PROTECTED, headers=parties["a"].headers, json={"name": "华为技术有限公司"})
        violation = client.post(f"{PROTECTED}/violations", headers=parties["a"].headers,
                                json=f.violation().model_dump(mode="json", exclude_none=True)).json()
        lists_only = client_for("SZAMR", "lists:write")
        response = client.post(f"/v1/records/{violation['id']}/withdrawal", headers=lists_only, json={"reason": "撤销"})
        assert response.status_code == 403
        with unit_of_work() as session:
            newest = session.exec(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert (newest.request_id, newest.status, newest.detail) == (
            response.headers["x-request-id"], 403, "missing scope: changing a violation needs the scope records:write")

    @pytest.mark.parametrize(("claimed", "detail"), [
        ({"dept": "SZAMR"}, "wrong department: the token names SZAMR"),
        ({"scope": "records:read admin"}, "scope not granted: admin"),
    ])
    def test_a_token_claiming_more_than_its_client_holds_is_audited(self, client, parties, real_key, claimed,
                                                                    detail) -> None:
        # Correctly signed (as a key thief would), so the client it names is the one to tell.
        kid, key = real_key
        reader = parties["reader"]
        token = sign_es256({"alg": "ES256", "typ": "at+jwt", "kid": kid}, claims_of(reader, **claimed), key)
        assert client.get(PROTECTED, headers=bearer(token)).status_code == 401
        newest = audit_of(client, parties, reader.client_id)[0]
        assert (newest["department"], newest["status"], newest["detail"]) == ("SZBANK", 401, detail)


class TestFailedLogins:
    def login(self, client, client_id: str, secret: str):
        return client.post("/v1/auth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                    "client_secret": secret})

    def test_wrong_secret_and_revoked_client_are_audited_with_their_reason(self, client, parties) -> None:
        a, b = parties["a"], parties["b"]
        client.delete(f"/v1/admin/clients/{b.client_id}", headers=parties["admin"].headers)
        assert self.login(client, a.client_id, "crs_not-the-secret").status_code == 401
        assert self.login(client, b.client_id, b.secret).status_code == 401
        wrong = audit_of(client, parties, a.client_id)[0]
        revoked = audit_of(client, parties, b.client_id)[0]
        assert (wrong["action"], wrong["department"], wrong["status"], wrong["detail"]) == \
            ("issue_token", "SZAMR", 401, "wrong secret")
        assert (revoked["action"], revoked["department"], revoked["status"], revoked["detail"]) == \
            ("issue_token", "SZTAX", 401, "revoked")

    def test_unknown_client_is_audited_anonymously(self, client, parties) -> None:
        response = self.login(client, "cli_NOSUCHCLIENT", "crs_whatever")
        assert response.status_code == 401
        entries = client.get("/v1/admin/audit", headers=parties["admin"].headers,
                             params={"action": "issue_token"}).json()["items"]
        assert [(e["client_id"], e["department"], e["status"], e["detail"], e["request_id"]) for e in entries] == \
            [(None, None, 401, "unknown client cli_NOSUCHCLIENT", response.headers["x-request-id"])]

    def test_an_unknown_client_id_that_is_not_ours_is_not_copied_into_the_log(self, client, parties) -> None:
        assert self.login(client, "cli_<script>\u202e", "x").status_code == 401
        entries = client.get("/v1/admin/audit", headers=parties["admin"].headers,
                             params={"action": "issue_token"}).json()["items"]
        assert [e["detail"] for e in entries] == ["unknown client"]


def forged(real_key, party) -> str:
    kid, _ = real_key
    return sign_es256({"alg": "ES256", "typ": "at+jwt", "kid": kid}, claims_of(party),
                      ec.generate_private_key(ec.SECP256R1()))


def expired(real_key, party) -> str:
    kid, key = real_key
    long_ago = int(time.time()) - 4000
    return sign_es256({"alg": "ES256", "typ": "at+jwt", "kid": kid},
                      claims_of(party, iat=long_ago, nbf=long_ago, exp=long_ago + 600), key)


def wrong_issuer(real_key, party) -> str:
    kid, key = real_key
    return sign_es256({"alg": "ES256", "typ": "at+jwt", "kid": kid}, claims_of(party, iss="https://evil.example"), key)


def wrong_audience(real_key, party) -> str:
    kid, key = real_key
    return sign_es256({"alg": "ES256", "typ": "at+jwt", "kid": kid}, claims_of(party, aud="other-api"), key)


def unknown_kid(real_key, party) -> str:
    return sign_es256({"alg": "ES256", "typ": "at+jwt", "kid": "es256-20260101T000000Z-abcdef"}, claims_of(party),
                      real_key[1])


def malformed(real_key, party) -> str:
    return f"{segment({'alg': 'none', 'typ': 'at+jwt'})}.{segment(claims_of(party))}.x"


class TestUnverifiedTokens:
    @pytest.mark.parametrize(("make", "reason"), [
        (forged, "bad_signature"), (expired, "expired"), (wrong_issuer, "wrong_issuer"),
        (wrong_audience, "wrong_audience"), (unknown_kid, "unknown_kid"), (malformed, "malformed"),
    ])
    def test_counted_by_reason_and_logged_with_the_request_id_but_not_audited(
            self, client, parties, real_key, unit_of_work, make, reason) -> None:
        token = make(real_key, parties["a"])
        counted, rows, logged = refused_count(client, reason), audit_rows(unit_of_work), len(LOG_LINES)
        response = client.get(PROTECTED, headers=bearer(token))
        assert response.status_code == 401
        assert refused_count(client, reason) == counted + 1
        # A forged token names a client it cannot speak for: no entry in anyone's audit trail.
        assert audit_rows(unit_of_work) == rows
        lines = [json.loads(line) for line in LOG_LINES[logged:]]
        refusals = [line for line in lines if line["msg"].startswith("token refused")]
        assert [(line["request_id"], line["reason"]) for line in refusals] == \
            [(response.headers["x-request-id"], reason)]
        assert not any(token in line or token.split(".")[2] in line for line in LOG_LINES[logged:])

    def test_every_reason_is_exposed_from_the_start(self, client) -> None:
        text = client.get("/metrics").text
        assert "# TYPE registry_tokens_refused_total counter" in text
        assert 'registry_tokens_refused_total{reason="retired_kid"} 0' in text
