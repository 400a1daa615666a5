"""Signing keys retire on time, in every process. A superseded key verifies until its grace ends
(judged by the service's clock, which the tests move) and never after; `retire-signing-key` ends a
leaked key at once in apps that are already running and have the key set loaded.

Tokens are signed by hand with a key's private half, as a process that missed the rotation or a
thief holding the key would sign them: fresh, so only the key's retirement can refuse them.
"""

import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.settings import get_settings
from api.tokens import GRACE, generate_key_pem
from cli.main import cli
from tests import factories as f
from tests.test_auth import sign_es256

PROTECTED = f"/v1/organizations/{f.HUAWEI}"


def current_kid(client) -> str:
    kids = [k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]]
    assert len(kids) == 1
    return kids[0]


def private_key(settings, kid: str) -> ec.EllipticCurvePrivateKey:
    return serialization.load_pem_private_key((Path(settings.keys_dir) / f"{kid}.pem").read_bytes(), password=None)


def signed_by(kid: str, key: ec.EllipticCurvePrivateKey, party) -> dict[str, str]:
    now = int(time.time())
    claims = {"iss": "credit-registry", "aud": "credit-registry-api", "sub": party.client_id, "dept": party.department,
              "scope": "records:read", "iat": now, "nbf": now, "exp": now + 600, "jti": f"k-{kid}"}
    return {"Authorization": f"Bearer {sign_es256({'alg': 'ES256', 'typ': 'at+jwt', 'kid': kid}, claims, key)}"}


def jwks_kids(client) -> set[str]:
    return {k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]}


def accepted(client, headers) -> bool:
    status = client.get(PROTECTED, headers=headers).status_code
    assert status in (401, 404)
    return status == 404  # the organization is unknown: the token was accepted


@pytest.fixture
def second_app(app, settings, clock):
    """Another process of the same installation (same data directory and database) that only
    verifies tokens, already running with the key set loaded."""
    with TestClient(create_app(settings, clock=clock), raise_server_exceptions=False) as other:
        yield other


class TestGrace:
    def test_a_superseded_key_verifies_until_its_grace_ends_then_never(self, client, app, parties, settings, clock,
                                                                      second_app) -> None:
        old_kid = current_kid(client)
        old = signed_by(old_kid, private_key(settings, old_kid), parties["a"])
        assert accepted(second_app, old)
        new_kid = app.state.keyring.rotate()
        assert accepted(client, old) and accepted(second_app, old)
        assert jwks_kids(second_app) == {old_kid, new_kid}
        clock.advance(seconds=GRACE - 1)
        assert accepted(client, old) and accepted(second_app, old)
        clock.advance(seconds=1)
        assert not accepted(client, old) and not accepted(second_app, old)
        assert jwks_kids(client) == jwks_kids(second_app) == {new_kid}
        assert accepted(second_app, signed_by(new_kid, private_key(settings, new_kid), parties["a"]))

    def test_each_key_retires_a_grace_after_its_own_rotation(self, client, app, parties, settings, clock) -> None:
        # Rotating more often than the grace must not keep every earlier key alive.
        first = current_kid(client)
        second = app.state.keyring.rotate()
        clock.advance(minutes=10)
        third = app.state.keyring.rotate()
        by_first, by_second = (signed_by(kid, private_key(settings, kid), parties["a"]) for kid in (first, second))
        clock.advance(seconds=GRACE - 10 * 60)
        assert not accepted(client, by_first) and accepted(client, by_second)
        assert jwks_kids(client) == {second, third}

    def test_configured_previous_keys_verify_for_one_grace_after_start(self, parties, settings, clock) -> None:
        previous_kid, previous_pem = generate_key_pem()
        previous = serialization.load_pem_private_key(previous_pem.encode(), password=None)
        public = previous.public_key().public_bytes(serialization.Encoding.PEM,
                                                    serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        kid, pem = generate_key_pem()
        configured = settings.model_copy(update={"signing_key": pem, "signing_key_id": kid,
                                                 "previous_public_keys": {previous_kid: public}})
        with TestClient(create_app(configured, clock=clock), raise_server_exceptions=False) as client:
            old = signed_by(previous_kid, previous, parties["a"])
            assert accepted(client, old)
            clock.advance(seconds=GRACE)
            assert not accepted(client, old)
            assert jwks_kids(client) == {kid}



def credit_registry(*args: str):
    return CliRunner().invoke(cli, list(args))


class TestRetireSigningKey:
    def test_running_apps_refuse_a_retired_keys_tokens_at_once(self, cli_env, client, app, parties,
                                                               second_app) -> None:
        old_kid = current_kid(client)
        old = parties["a"].headers  # issued by the token endpoint's keyring, with the key about to leak
        assert accepted(client, old) and accepted(second_app, old)
        rotated = credit_registry("rotate-signing-key")
        assert rotated.exit_code == 0, rotated.output
        assert accepted(client, old) and accepted(second_app, old)  # within the grace

        retired = credit_registry("retire-signing-key", old_kid)
        assert retired.exit_code == 0, retired.output
        assert not accepted(client, old) and not accepted(second_app, old)
        assert old_kid not in jwks_kids(client) | jwks_kids(second_app)
        assert 'registry_tokens_refused_total{reason="retired_kid"} 1' in second_app.get("/metrics").text
        a = parties["a"]
        token = client.post("/v1/auth/token", data={"grant_type": "client_credentials", "client_id": a.client_id,
                                                     "client_secret": a.secret}).json()["access_token"]
        assert accepted(second_app, {"Authorization": f"Bearer {token}"})

    def test_the_key_that_signs_is_not_retired_before_a_new_one_exists(self, cli_env, client, parties) -> None:
        kid = current_kid(client)
        refused = credit_registry("retire-signing-key", kid)
        assert refused.exit_code == 2
        assert "run `credit-registry rotate-signing-key` first" in refused.output
        assert accepted(client, parties["a"].headers) and jwks_kids(client) == {kid}

    def test_an_unknown_or_already_retired_key_is_an_error(self, cli_env, client) -> None:
        old_kid = current_kid(client)
        unknown = credit_registry("retire-signing-key", "es256-20260101T000000Z-abcdef")
        assert (unknown.exit_code, "there is no signing key es256-20260101T000000Z-abcdef" in unknown.output) == (2, True)
        assert credit_registry("rotate-signing-key").exit_code == 0
        assert credit_registry("retire-signing-key", old_kid).exit_code == 0
        again = credit_registry("retire-signing-key", old_kid)
        assert (again.exit_code, "was already retired" in again.output) == (2, True)

    def test_configured_keys_are_retired_in_the_configuration(self, cli_env, monkeypatch) -> None:
        kid, pem = generate_key_pem()
        monkeypatch.setenv("REGISTRY_SIGNING_KEY_ID", kid)
        monkeypatch.setenv("REGISTRY_SIGNING_KEY", pem)
        get_settings.cache_clear()
        refused = credit_registry("retire-signing-key", kid)
        assert refused.exit_code == 2 and "REGISTRY_PREVIOUS_PUBLIC_KEYS" in refused.output
