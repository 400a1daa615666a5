"""Standard Webhooks signatures: the reference libraries' shared vectors, and the official
`standardwebhooks` package accepting what we sign."""

import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from service.sync.webhooks import signing as signing

V1 = ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
      b'{"test": 2432232314}', "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
V2 = ("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", 1649367553,
      b'{"email":"test@example.com","username":"test_user"}', "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=")


def headers(message_id: str, timestamp: int, signature: str) -> dict[str, str]:
    return {"webhook-id": message_id, "webhook-timestamp": str(timestamp), "webhook-signature": signature}


@pytest.mark.parametrize("vector", [V1, V2])
def test_reference_vectors(vector) -> None:
    secret, message_id, timestamp, body, expected = vector
    assert signing.sign(secret, message_id, timestamp, body) == expected
    signing.verify([secret], headers(message_id, timestamp, expected), body, now=timestamp + 10)


def test_one_changed_character_is_refused() -> None:
    secret, message_id, timestamp, body, _ = V1
    forged = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="
    with pytest.raises(signing.SignatureInvalid):
        signing.verify([secret], headers(message_id, timestamp, forged), body, now=timestamp)


@pytest.mark.parametrize("skew", [-301, 301])
def test_stale_or_future_timestamps_are_refused(skew) -> None:
    secret, message_id, timestamp, body, expected = V1
    with pytest.raises(signing.SignatureInvalid, match="five minutes"):
        signing.verify([secret], headers(message_id, timestamp, expected), body, now=timestamp + skew)


def test_rotation_sends_both_and_either_secret_verifies() -> None:
    old, new = signing.new_secret(), signing.new_secret()
    header = signing.signature_header([new, old], "evt_01", 1700000000, b"{}")
    assert len(header.split(" ")) == 2
    for secret in (old, new):
        signing.verify([secret], headers("evt_01", 1700000000, header), b"{}", now=1700000000)
    with pytest.raises(signing.SignatureInvalid):
        signing.verify([signing.new_secret()], headers("evt_01", 1700000000, header), b"{}", now=1700000000)


def test_the_official_package_accepts_our_signatures() -> None:
    secret = signing.new_secret()
    body = b'{"data":{"record_id":"rec_1"},"id":"evt_01","seq":1,"type":"violation.published"}'
    now = int(time.time())
    sent = headers("evt_01", now, signing.sign(secret, "evt_01", now, body))
    assert Webhook(secret).verify(body, sent) is not None
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(body, sent)
