"""Webhook signing secrets are stored sealed with a key kept outside the database (db.sealing):
a copy of the database cannot sign as the registry, while deliveries still verify."""

import pytest
from sqlalchemy import text
from standardwebhooks.webhooks import Webhook
from typer.testing import CliRunner

from api.settings import Settings, get_settings
from cli.main import cli
from db.sealing import PREFIX
from db.session import transaction
from service.sync.webhooks import delivery
from tests.webhook_receivers import FAST, push_violation, run_until_idle


def stored_secrets(db, endpoint_id: str) -> list[str]:
    with db.writer.connect() as conn:
        return list(conn.execute(text("SELECT secret FROM webhook_secret WHERE endpoint_id = :id ORDER BY id"),
                                 {"id": endpoint_id}).scalars())


def store(db, endpoint_id: str, value: str) -> None:
    with db.writer.begin() as conn:
        conn.execute(text("UPDATE webhook_secret SET secret = :value WHERE endpoint_id = :id"),
                     {"value": value, "id": endpoint_id})


def ping(client, endpoint_id: str, headers: dict):
    return client.post(f"/v1/webhooks/endpoints/{endpoint_id}/test", headers=headers)


def test_the_secret_is_stored_sealed_and_deliveries_verify_with_the_secret_handed_out(
        client, db, parties, hooked, receivers, clock) -> None:
    receiver = receivers()
    endpoint_id, secret, headers = hooked(receiver.url)
    rotated = client.post(f"/v1/webhooks/endpoints/{endpoint_id}/secret/rotate", headers=headers,
                          params={"grace_seconds": 3600}).json()["secret"]
    stored = stored_secrets(db, endpoint_id)
    assert len(stored) == 2 and all(value.startswith(PREFIX) for value in stored)
    assert not any(s in value for value in stored for s in (secret, rotated, secret[6:], rotated[6:]))

    push_violation(client, parties)
    run_until_idle(db, clock)
    sent_headers, body = receiver.received[-1]
    assert Webhook(rotated).verify(body, sent_headers)["type"] == "violation.published"
    assert Webhook(secret).verify(body, sent_headers)  # the old one still signs in its grace period


def test_secrets_stored_plain_before_sealing_still_sign_and_are_sealed_on_request(
        client, db, hooked, receivers, database_url, tmp_path, monkeypatch) -> None:
    receiver = receivers((204,))
    endpoint_id, secret, headers = hooked(receiver.url)
    store(db, endpoint_id, secret)  # as a registry migrated from before sealing has it
    assert ping(client, endpoint_id, headers).json()["status_code"] == 204
    assert Webhook(secret).verify(receiver.received[-1][1], receiver.received[-1][0])

    monkeypatch.setenv("REGISTRY_DATABASE_URL", database_url)
    monkeypatch.setenv("REGISTRY_DATA_DIR", str(tmp_path / "cli"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["seal-secrets"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0 and "1 webhook secret(s) sealed" in result.output, result.output
    assert stored_secrets(db, endpoint_id)[0].startswith(PREFIX)
    assert ping(client, endpoint_id, headers).json()["status_code"] == 204
    assert Webhook(secret).verify(receiver.received[-1][1], receiver.received[-1][0])


def test_a_sealed_secret_opens_only_for_its_own_endpoint(client, db, hooked, receivers) -> None:
    receiver = receivers((204,))
    first, _, headers = hooked(receiver.url)
    second, _, _ = hooked(receiver.url)
    store(db, second, stored_secrets(db, first)[0])  # someone with database access swaps secrets
    refused = ping(client, second, headers)
    assert refused.status_code == 500 and refused.headers["content-type"] == "application/problem+json"
    assert "secrets key" in refused.json()["detail"]
    assert not receiver.received  # nothing went out unsigned or signed wrongly
    assert ping(client, first, headers).json()["status_code"] == 204
    store(db, second, PREFIX + "damaged")  # cut short or tampered with: refused the same way
    assert ping(client, second, headers).status_code == 500


def test_an_endpoint_whose_secret_does_not_open_holds_up_no_other(client, db, parties, clock, hooked,
                                                                   receivers) -> None:
    good, broken = receivers(), receivers()
    _, secret, _ = hooked(good.url)
    damaged, _, _ = hooked(broken.url)
    store(db, damaged, PREFIX + "AAAA")
    push_violation(client, parties)
    with delivery.http_client(FAST) as http:
        for _ in range(3):
            delivery.deliver_due(lambda: transaction(db), http, owner="test-worker", policy=FAST, clock=clock)
    assert len(good.received) == 1 and Webhook(secret).verify(good.received[0][1], good.received[0][0])
    assert not broken.received


def test_production_refuses_to_start_without_a_secrets_key_or_with_a_malformed_one(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("REGISTRY_SECRETS_KEY", raising=False)
    base = {"environment": "production", "data_dir": tmp_path, "database_url": f"sqlite:///{tmp_path}/x.db",
            "signing_key": "pem", "signing_key_id": "kid"}
    with pytest.raises(ValueError, match="REGISTRY_SECRETS_KEY"):
        Settings(**base)
    with pytest.raises(ValueError, match="base64url of 32 bytes") as refused:
        Settings(**base, secrets_key="not-a-key-at-all")
    assert "not-a-key-at-all" not in str(refused.value) and "pem" not in str(refused.value)  # nor any other key


def test_the_embedded_default_keeps_its_key_in_the_data_directory_owner_only(tmp_path, monkeypatch) -> None:
    from api.storage import SECRETS_KEY_FILE, secrets_sealer

    monkeypatch.delenv("REGISTRY_SECRETS_KEY", raising=False)
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/x.db")
    sealed = secrets_sealer(settings).seal("whsec_abc", endpoint_id="whe_1")
    key_file = settings.keys_dir / SECRETS_KEY_FILE
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert secrets_sealer(settings).open(sealed, endpoint_id="whe_1") == "whsec_abc"  # the same key next start


def test_new_secrets_key_prints_a_key_production_accepts(tmp_path, monkeypatch) -> None:
    printed = CliRunner().invoke(cli, ["new-secrets-key"])
    assert printed.exit_code == 0 and printed.output.startswith("REGISTRY_SECRETS_KEY=")
    key = printed.output.strip().split("=", 1)[1]
    settings = Settings(environment="production", data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/x.db",
                        signing_key="pem", signing_key_id="kid", secrets_key=key)
    assert settings.secrets_key == key
    assert CliRunner().invoke(cli, ["new-secrets-key"]).output != printed.output  # random, not a constant
