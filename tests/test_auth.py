"""Tokens: the client-credentials endpoint, JWKS, key rotation, and the attack list of
shared/research/security-reliability-anchors.md §1.1, each case its own test.

Forged tokens are built by hand here (base64url + cryptography), so nothing but api/tokens.py
imports jose. Tokens that must be *correctly signed* but carry bad claims are signed with the
installation's real key, read from its key directory: they show that the verifier refuses them
for their claims, not for their signature.
"""

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

PROTECTED = "/v1/organizations/914403001922038216"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def segment(obj) -> str:
    return b64(json.dumps(obj, separators=(",", ":")).encode())


def sign_es256(header: dict, claims: dict, key: ec.EllipticCurvePrivateKey) -> str:
    signing_input = f"{segment(header)}.{segment(claims)}"
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def sign_hs256(header: dict, claims: dict, secret: bytes) -> str:
    signing_input = f"{segment(header)}.{segment(claims)}"
    return f"{signing_input}.{b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


@pytest.fixture
def real_key(app) -> tuple[str, ec.EllipticCurvePrivateKey]:
    directory: Path = app.state.settings.keys_dir
    path = sorted(directory.glob("es256-*.pem"))[-1]
    return path.stem, serialization.load_pem_private_key(path.read_bytes(), password=None)


@pytest.fixture
def claims(parties) -> dict:
    now = int(time.time())
    return {"iss": "credit-registry", "aud": "credit-registry-api", "sub": parties["a"].client_id, "dept": "SZAMR",
            "scope": "records:read", "iat": now, "nbf": now, "exp": now + 600, "jti": "t-1"}


def get(client, token: str):
    # Raw bytes, so tokens that are not ASCII reach the server as sent.
    return client.get(PROTECTED, headers={"Authorization": f"Bearer {token}".encode()})


def assert_refused(response) -> None:
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"] == "application/problem+json"


class TestTokenEndpoint:
    def test_form_credentials_give_a_working_token(self, client, parties) -> None:
        a = parties["a"]
        response = client.post("/v1/auth/token", data={"grant_type": "client_credentials", "client_id": a.client_id,
                                                        "client_secret": a.secret})
        assert response.status_code == 200
        body = response.json()
        assert (body["token_type"], body["expires_in"]) == ("Bearer", 900)
        assert body["scope"] == "complaints:handle lists:write objections:handle records:read records:write"
        assert response.headers["cache-control"] == "no-store"
        assert client.get("/v1/records/rec_" + "0" * 26,
                          headers={"Authorization": f"Bearer {body['access_token']}"}).status_code == 404

    def test_claims_and_header(self, client, parties) -> None:
        a = parties["a"]
        token = client.post("/v1/auth/token", data={"grant_type": "client_credentials", "client_id": a.client_id,
                                                     "client_secret": a.secret}).json()["access_token"]
        header, payload = (json.loads(base64.urlsafe_b64decode(p + "==")) for p in token.split(".")[:2])
        assert header["alg"] == "ES256" and header["typ"] == "at+jwt" and header["kid"].startswith("es256-")
        assert set(payload) == {"iss", "aud", "sub", "dept", "scope", "iat", "nbf", "exp", "jti"}
        assert (payload["sub"], payload["dept"]) == (a.client_id, "SZAMR")
        assert payload["exp"] - payload["iat"] <= 900

    def test_http_basic_and_a_narrower_scope(self, client, parties) -> None:
        a = parties["a"]
        basic = base64.b64encode(f"{a.client_id}:{a.secret}".encode()).decode()
        response = client.post("/v1/auth/token", data={"grant_type": "client_credentials", "scope": "records:read"},
                               headers={"Authorization": f"Basic {basic}"})
        assert response.status_code == 200
        token = response.json()["access_token"]
        write = client.put(PROTECTED, json={"name": "华为技术有限公司"}, headers={"Authorization": f"Bearer {token}"})
        assert write.status_code == 403
        assert 'error="insufficient_scope"' in write.headers["www-authenticate"]

    def test_scope_beyond_the_client_is_invalid_scope(self, client, parties) -> None:
        a = parties["a"]
        response = client.post("/v1/auth/token", data={"grant_type": "client_credentials", "client_id": a.client_id,
                                                        "client_secret": a.secret, "scope": "records:read admin"})
        assert (response.status_code, response.json()["error"]) == (400, "invalid_scope")

    def test_wrong_grant_type(self, client, parties) -> None:
        response = client.post("/v1/auth/token", data={"grant_type": "password", "client_id": "x",
                                                        "client_secret": "y"})
        assert (response.status_code, response.json()["error"]) == (400, "unsupported_grant_type")

    def test_json_body_is_415(self, client) -> None:
        response = client.post("/v1/auth/token", json={"grant_type": "client_credentials"})
        assert response.status_code == 415

    def test_unknown_client_and_wrong_secret_look_the_same(self, client, parties) -> None:
        wrong = client.post("/v1/auth/token", data={"grant_type": "client_credentials",
                                                     "client_id": parties["a"].client_id, "client_secret": "nope"})
        unknown = client.post("/v1/auth/token", data={"grant_type": "client_credentials",
                                                       "client_id": "cli_unknown", "client_secret": "nope"})
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json() == unknown.json()
        assert "nope" not in wrong.text

    def test_brute_force_is_throttled(self, client, parties) -> None:  # A19
        statuses = [client.post("/v1/auth/token", data={"grant_type": "client_credentials",
                                                         "client_id": parties["a"].client_id,
                                                         "client_secret": f"guess-{i}"}).status_code
                    for i in range(12)]
        assert statuses == [401] * 10 + [429] * 2
        # Even the right secret waits now.
        right = client.post("/v1/auth/token", data={"grant_type": "client_credentials",
                                                     "client_id": parties["a"].client_id,
                                                     "client_secret": parties["a"].secret})
        assert right.status_code == 429 and int(right.headers["retry-after"]) > 0

    def test_revoked_client_gets_no_token(self, client, parties) -> None:
        client.delete(f"/v1/admin/clients/{parties['b'].client_id}", headers=parties["admin"].headers)
        response = client.post("/v1/auth/token", data={"grant_type": "client_credentials",
                                                        "client_id": parties["b"].client_id,
                                                        "client_secret": parties["b"].secret})
        assert response.status_code == 401


class TestJwksAndRotation:
    def test_jwks_publishes_public_keys_only(self, client) -> None:
        keys = client.get("/.well-known/jwks.json").json()["keys"]
        assert len(keys) == 1
        assert keys[0]["kty"] == "EC" and keys[0]["crv"] == "P-256" and keys[0]["alg"] == "ES256"
        assert "d" not in keys[0]

    def test_rotation_keeps_old_tokens_working(self, client, app, parties) -> None:
        old_kid = client.get("/.well-known/jwks.json").json()["keys"][0]["kid"]
        time.sleep(1)  # kids carry the second they were made
        new_kid = app.state.keyring.rotate()
        assert client.get(PROTECTED, headers=parties["a"].headers).status_code == 404  # old token: still valid
        kids = {k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]}
        assert kids == {old_kid, new_kid}
        a = parties["a"]
        token = client.post("/v1/auth/token", data={"grant_type": "client_credentials", "client_id": a.client_id,
                                                     "client_secret": a.secret}).json()["access_token"]
        assert json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))["kid"] == new_kid

    def test_key_files_are_owner_only(self, app) -> None:
        directory = app.state.settings.keys_dir
        assert directory.stat().st_mode & 0o077 == 0
        assert all(p.stat().st_mode & 0o077 == 0 for p in directory.glob("*.pem"))


class TestAttacks:
    def test_a1_alg_none(self, client, claims, real_key) -> None:
        assert_refused(get(client, f"{segment({'alg': 'none', 'typ': 'at+jwt', 'kid': real_key[0]})}."
                                   f"{segment(claims)}."))

    @pytest.mark.parametrize("alg", ["None", "NONE", "nOnE"])
    def test_a2_alg_none_variants(self, client, claims, real_key, alg) -> None:
        assert_refused(get(client, f"{segment({'alg': alg, 'typ': 'at+jwt', 'kid': real_key[0]})}.{segment(claims)}."))

    @pytest.mark.parametrize("encoding", ["pem", "der"])
    def test_a3_key_confusion_hs256_with_our_public_key(self, client, claims, real_key, encoding) -> None:
        kid, key = real_key
        public = key.public_key()
        secret = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo) \
            if encoding == "pem" else public.public_bytes(serialization.Encoding.DER,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo)
        assert_refused(get(client, sign_hs256({"alg": "HS256", "typ": "at+jwt", "kid": kid}, claims, secret)))

    def test_a4_expired(self, client, claims, real_key) -> None:
        kid, key = real_key
        claims |= {"iat": claims["iat"] - 4000, "nbf": claims["nbf"] - 4000, "exp": claims["iat"] - 3600}
        response = get(client, sign_es256({"alg": "ES256", "typ": "at+jwt", "kid": kid}, claims, key))
        assert_refused(response)
        assert str(claims["exp"]) not in response.text and kid not in response.text

    def test_a5_leeway_boundary(self, client, claims, real_key) -> None:
        kid, key = real_key
        header = {"alg": "ES256", "typ": "at+jwt", "kid": kid}
        within = claims | {"iat": claims["iat"] - 600, "nbf": claims["iat"] - 600, "exp": claims["iat"] - 10}
        beyond = claims | {"iat": claims["iat"] - 600, "nbf": claims["iat"] - 600, "exp": claims["iat"] - 31}
        assert get(client, sign_es256(header, within, key)).status_code == 404  # accepted: org unknown
        assert_refused(get(client, sign_es256(header, beyond, key)))

    @pytest.mark.parametrize("missing", ["exp", "aud", "iss", "iat", "nbf", "sub", "jti", "dept", "scope"])
    def test_a6_missing_claim(self, client, claims, real_key, missing) -> None:
        kid, key = real_key
        del claims[missing]
        assert_refused(get(client, sign_es256({"alg": "ES256", "typ": "at+jwt", "kid": kid}, claims, key)))

    @pytest.mark.parametrize(("claim", "value"), [("aud", "other-service"), ("iss", "https://evil.example")])
    def test_a7_wrong_audience_or_issuer(self, client, claims, real_key, claim, value) -> None:
        kid, key = real_key
        assert_refused(get(client, sign_es256({"alg": "ES256", "typ": "at+jwt", "kid": kid},
                                              claims | {claim: value}, key)))

    @pytest.mark.parametrize("claim", ["nbf", "iat"])
    def test_a8_future_dated(self, client, claims, real_key, claim) -> None:
        kid, key = real_key
        future = claims | {claim: claims[claim] + 3600, "exp": claims["exp"] + 3600}
        assert_refused(get(client, sign_es256({"alg": "ES256", "typ": "at+jwt", "kid": kid}, future, key)))

    def test_a9_over_long_lifetime(self, client, claims, real_key) -> None:
        kid, key = real_key
        assert_refused(get(client, sign_es256({"alg": "ES256", "typ": "at+jwt", "kid": kid},
                                              claims | {"exp": claims["iat"] + 10 * 365 * 86400}, key)))

    def test_a10_non_numeric_time(self, client, claims, real_key) -> None:
        kid, key = real_key
        assert_refused(get(client, sign_es256({"alg": "ES256", "typ": "at+jwt", "kid": kid},
                                              claims | {"exp": str(claims["exp"])}, key)))

    def test_a11_tampered_payload(self, client, parties, claims) -> None:
        header, _, signature = parties["reader"].headers["Authorization"][7:].split(".")
        tampered = claims | {"sub": parties["reader"].client_id, "dept": "SZAMR", "scope": "records:write"}
        assert_refused(get(client, f"{header}.{segment(tampered)}.{signature}"))

    def test_a12_unknown_signer_with_a_trusted_kid(self, client, claims, real_key) -> None:
        kid, _ = real_key
        stranger = ec.generate_private_key(ec.SECP256R1())
        assert_refused(get(client, sign_es256({"alg": "ES256", "typ": "at+jwt", "kid": kid}, claims, stranger)))

    @pytest.mark.parametrize("kid", ["' OR 1=1 --", "../../etc/passwd", "es256-20260101T000000Z-zzzzzz", 7])
    def test_a13_kid_injection(self, client, claims, real_key, kid) -> None:
        assert_refused(get(client, sign_es256({"alg": "ES256", "typ": "at+jwt", "kid": kid}, claims, real_key[1])))

    @pytest.mark.parametrize("extra", [{"jku": "http://127.0.0.1:9/jwks"}, {"x5u": "http://127.0.0.1:9/x"},
                                       {"jwk": {"kty": "EC"}}, {"crit": ["exp"]}, {"x5c": ["AAAA"]}])
    def test_a14_header_driven_keys_and_crit(self, client, claims, real_key, extra) -> None:
        kid, key = real_key
        assert_refused(get(client, sign_es256({"alg": "ES256", "typ": "at+jwt", "kid": kid} | extra, claims, key)))

    @pytest.mark.parametrize("typ", ["JWT", "refresh+jwt", None])
    def test_a15_token_type_confusion(self, client, claims, real_key, typ) -> None:
        kid, key = real_key
        header = {"alg": "ES256", "kid": kid} | ({"typ": typ} if typ else {})
        assert_refused(get(client, sign_es256(header, claims, key)))

    @pytest.mark.parametrize("token", ["x" * 100_000, "a.b.c.d.e", '{"payload":"x","signatures":[]}', "{{}}.{}.{}",
                                       "Bearer", "é.é.é"])
    def test_a16_malformed_or_huge(self, client, token) -> None:
        assert_refused(get(client, token))

    def test_a17_revoked_client_token_stops_working_at_once(self, client, parties) -> None:
        b = parties["b"]
        assert client.get(PROTECTED, headers=b.headers).status_code == 404  # works
        revoke = client.delete(f"/v1/admin/clients/{b.client_id}", headers=parties["admin"].headers)
        assert revoke.status_code == 200 and revoke.json()["revoked_at"]
        assert_refused(client.get(PROTECTED, headers=b.headers))

    def test_a18_token_in_the_query_string_is_ignored(self, client, parties) -> None:
        token = parties["a"].headers["Authorization"][7:]
        assert_refused(client.get(PROTECTED, params={"access_token": token}))

    def test_scope_claim_beyond_the_client_is_refused(self, client, parties, real_key, claims) -> None:
        # Correctly signed, but claiming a scope the client was never granted.
        kid, key = real_key
        forged = claims | {"sub": parties["reader"].client_id, "dept": "SZBANK", "scope": "records:read admin"}
        assert_refused(client.get("/v1/admin/departments",
                                  headers={"Authorization": f"Bearer {sign_es256({'alg': 'ES256', 'typ': 'at+jwt', 'kid': kid}, forged, key)}"}))

    def test_missing_token(self, client) -> None:
        assert_refused(client.get(PROTECTED))


def test_only_the_two_signing_modules_import_jose() -> None:
    """Access tokens (api.tokens) and credit reports (api.report_signing) are the only JOSE users,
    each pinning its one algorithm; nothing else may grow its own JWT handling."""
    root = Path(__file__).resolve().parent.parent
    importers = sorted(str(p.relative_to(root)) for package in ("api", "service", "db")
                       for p in (root / package).rglob("*.py")
                       if any(line.strip().startswith(("import jose", "from jose")) for line in p.read_text().splitlines()))
    assert importers == ["api/report_signing.py", "api/tokens.py"]
