"""Webhooks end to end: endpoints over HTTP, deliveries written with the change, a worker sending
them signed to a real HTTP receiver on 127.0.0.1, retries, dead letters, 410, redirects, leases."""

import json
import threading
import time
from datetime import timedelta

import pytest
from sqlmodel import func, select
from standardwebhooks.webhooks import Webhook

from db.repositories.events import EventRepository
from db.repositories.webhooks import WebhookRepository
from db.session import transaction
from db.tables import Event
from service.sync.webhooks import delivery, destinations
from service.sync.webhooks.delivery import DeliveryPolicy
from tests.webhook_receivers import FAST, push_violation, run_until_idle


def test_signed_delivery_matches_the_feed(client, parties, db, clock, hooked, receivers) -> None:
    receiver = receivers()
    endpoint_id, secret, headers = hooked(receiver.url)
    record = push_violation(client, parties)
    run_until_idle(db, clock)
    assert len(receiver.received) == 1
    sent_headers, body = receiver.received[0]
    Webhook(secret).verify(body, sent_headers)  # the official verifier accepts it
    feed = client.get("/v1/events", headers=parties["b"].headers, params={"after": "1"}).json()["data"]
    assert json.loads(body) == feed[0] and sent_headers["webhook-id"] == feed[0]["id"]
    assert json.loads(body)["data"]["record_id"] == record["id"]
    log = client.get(f"/v1/webhooks/endpoints/{endpoint_id}/deliveries", headers=headers).json()
    assert [(d["status"], d["attempts"], d["attempt_log"][0]["status_code"]) for d in log] == [("succeeded", 1, 200)]


def test_500_then_200_is_retried(client, parties, db, clock, hooked, receivers) -> None:
    receiver = receivers((500, 200))
    endpoint_id, _, headers = hooked(receiver.url)
    push_violation(client, parties)
    run_until_idle(db, clock)
    ids = [h["webhook-id"] for h, _ in receiver.received]
    assert len(ids) == 2 and len(set(ids)) == 1  # the same webhook-id on every attempt
    log = client.get(f"/v1/webhooks/endpoints/{endpoint_id}/deliveries", headers=headers).json()
    assert [a["status_code"] for a in log[0]["attempt_log"]] == [500, 200] and log[0]["status"] == "succeeded"


def test_always_failing_becomes_a_dead_letter(client, parties, db, clock, hooked, receivers) -> None:
    receiver = receivers((503,))
    endpoint_id, _, headers = hooked(receiver.url)
    push_violation(client, parties)
    run_until_idle(db, clock, policy=DeliveryPolicy(schedule=(0.05, 0.05), jitter=0.0, allowed_hosts=FAST.allowed_hosts))
    failed = client.get(f"/v1/webhooks/endpoints/{endpoint_id}/deliveries", headers=headers,
                        params={"status": "failed"}).json()
    assert len(failed) == 1 and failed[0]["attempts"] == 3 and len(receiver.received) == 3
    assert 'registry_webhook_deliveries{status="failed"} 1\n' in client.get("/metrics").text  # for alerting


def test_410_disables_the_endpoint(client, parties, db, clock, hooked, receivers) -> None:
    receiver = receivers((410,))
    endpoint_id, _, headers = hooked(receiver.url)
    push_violation(client, parties)
    run_until_idle(db, clock)
    endpoint = client.get(f"/v1/webhooks/endpoints/{endpoint_id}", headers=headers).json()
    assert (endpoint["status"], endpoint["disabled_reason"]) == ("disabled", "gone_410")
    push_violation(client, parties)  # no new deliveries for a disabled endpoint
    run_until_idle(db, clock)
    assert len(receiver.received) == 1


def test_redirects_are_not_followed(client, parties, db, clock, hooked, receivers) -> None:
    target = receivers()
    redirect = receivers((302,), headers={"location": target.url})
    endpoint_id, _, headers = hooked(redirect.url)
    push_violation(client, parties)
    run_until_idle(db, clock)
    assert target.received == []
    log = client.get(f"/v1/webhooks/endpoints/{endpoint_id}/deliveries", headers=headers).json()
    assert log[0]["attempt_log"][0]["status_code"] == 302 and log[0]["status"] != "succeeded"


def test_slow_receiver_hits_the_attempt_timeout(client, parties, db, clock, hooked, receivers) -> None:
    receiver = receivers(delay=7)
    endpoint_id, _, headers = hooked(receiver.url)
    push_violation(client, parties)
    with delivery.http_client(FAST) as http:
        started = time.monotonic()
        delivery.deliver_due(lambda: transaction(db), http, owner="w", policy=FAST, clock=clock)
        assert time.monotonic() - started < FAST.attempt_seconds + 1.5  # not the 10 s read timeout
    log = client.get(f"/v1/webhooks/endpoints/{endpoint_id}/deliveries", headers=headers).json()
    assert log[0]["attempt_log"][0]["error"] == "timeout"


def test_only_events_the_department_may_see(client, parties, db, clock, hooked, receivers) -> None:
    receiver = receivers()
    hooked(receiver.url, event_types=["violation.*"])
    hidden = push_violation(client, parties, visibility="restricted")
    shown = push_violation(client, parties, visibility="shared")
    run_until_idle(db, clock)
    delivered = [json.loads(body)["data"]["record_id"] for _, body in receiver.received]
    assert delivered == [shown["id"]] and hidden["id"] not in delivered


def test_a_dead_workers_lease_is_taken_over(client, parties, db, clock, hooked, receivers) -> None:
    receiver = receivers()
    hooked(receiver.url)
    push_violation(client, parties)
    now = clock.now()
    with transaction(db) as session:  # worker A claims, then dies before sending
        claimed = WebhookRepository(session).claim_due(now=now, owner="A", lease_until=now + timedelta(seconds=60),
                                                       limit=10, per_endpoint=4)
    assert len(claimed) == 1
    with delivery.http_client(FAST) as http:
        assert delivery.deliver_due(lambda: transaction(db), http, owner="B", policy=FAST, clock=clock) == 0
    assert receiver.received == []  # still A's while its lease runs
    clock.advance(seconds=61)
    run_until_idle(db, clock, owner="B")
    assert len(receiver.received) == 1


def test_rotation_signs_with_both_secrets(client, parties, db, clock, hooked, receivers) -> None:
    receiver = receivers()
    endpoint_id, old_secret, headers = hooked(receiver.url)
    rotated = client.post(f"/v1/webhooks/endpoints/{endpoint_id}/secret/rotate", headers=headers)
    new_secret = rotated.json()["secret"]
    push_violation(client, parties)
    run_until_idle(db, clock)
    sent_headers, body = receiver.received[0]
    assert len(sent_headers["webhook-signature"].split(" ")) == 2
    for secret in (old_secret, new_secret):
        Webhook(secret).verify(body, sent_headers)


@pytest.mark.parametrize("url", ["http://10.0.0.1/hooks", "http://169.254.169.254/latest", "http://[fd00::1]/x",
                                 "ftp://example.org/x", "http://user:pw@203.0.113.5/x"])
def test_private_and_odd_destinations_are_refused(client, hooked, url) -> None:
    _, _, headers = hooked("http://127.0.0.1:9/hooks")  # the tests' allowed loopback
    response = client.post("/v1/webhooks/endpoints", headers=headers, json={"url": url})
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("url", ["http://127.0.0.1/x", "http://2130706433/x", "http://0x7f000001/x", "http://0177.1/x",
                                 "http://localhost/x", "http://[::1]/x", "http://[::ffff:127.0.0.1]/x",
                                 "http://192.168.1.10/x", "http://100.64.0.1/x", "http://224.0.0.1/x",
                                 "http://[2002:7f00:1::]/x", "http://[2002:a9fe:a9fe::]/x", "http://[fec0::1]/x",
                                 "http://[64:ff9b::a9fe:a9fe]/x"])
def test_loopback_in_any_spelling_is_refused_without_the_allowlist(url) -> None:
    with pytest.raises(destinations.BlockedDestination):
        destinations.check(url)


def test_other_departments_endpoints_are_not_found(client, parties, hooked) -> None:
    endpoint_id, _, _ = hooked("http://127.0.0.1:9/hooks")
    from_a = client.get(f"/v1/webhooks/endpoints/{endpoint_id}", headers=parties["a"].headers)
    assert from_a.status_code == 403  # A's client lacks webhooks:manage altogether


def test_dead_letter_resend_and_replay_after_an_outage(client, parties, db, clock, hooked, receivers) -> None:
    receiver = receivers((500,))
    endpoint_id, _, headers = hooked(receiver.url)
    push_violation(client, parties)
    run_until_idle(db, clock, policy=DeliveryPolicy(schedule=(0.05,), jitter=0.0, allowed_hosts=FAST.allowed_hosts))
    dead = client.get(f"/v1/webhooks/endpoints/{endpoint_id}/deliveries", headers=headers).json()
    assert [d["status"] for d in dead] == ["failed"]

    receiver.statuses = [200]  # the receiver is fixed
    resent = client.post(f"/v1/webhooks/deliveries/{dead[0]['id']}/resend", headers=headers)
    assert resent.status_code == 202
    run_until_idle(db, clock)
    assert receiver.received[-1][0]["webhook-id"] == receiver.received[0][0]["webhook-id"]

    client.patch(f"/v1/webhooks/endpoints/{endpoint_id}", headers=headers, json={"status": "disabled"})
    since = clock.now().isoformat()
    push_violation(client, parties)  # while disabled: no delivery
    push_violation(client, parties)
    client.patch(f"/v1/webhooks/endpoints/{endpoint_id}", headers=headers, json={"status": "enabled"})
    replayed = client.post(f"/v1/webhooks/endpoints/{endpoint_id}/replay", headers=headers,
                           json={"since": since, "mode": "missing"})
    assert replayed.json() == {"queued": 2}
    run_until_idle(db, clock)
    assert len({h["webhook-id"] for h, _ in receiver.received}) == 3
    again = client.post(f"/v1/webhooks/endpoints/{endpoint_id}/replay", headers=headers,
                        json={"since": since, "mode": "missing"})
    assert again.json() == {"queued": 0}  # everything has been delivered now


def test_ping_reports_what_the_endpoint_answered(client, hooked, receivers) -> None:
    receiver = receivers((204,))
    endpoint_id, secret, headers = hooked(receiver.url)
    result = client.post(f"/v1/webhooks/endpoints/{endpoint_id}/test", headers=headers).json()
    assert (result["status_code"], result["error"]) == (204, None)
    sent_headers, body = receiver.received[0]
    assert Webhook(secret).verify(body, sent_headers)["type"] == "webhook.test"


def test_a_resend_racing_retention_is_refused_cleanly_not_a_500(client, parties, db, clock, hooked,
                                                                 receivers) -> None:
    if db.is_sqlite:
        pytest.skip("SQLite takes one writer at a time: the two cannot interleave")
    receiver = receivers((500,))
    endpoint_id, _, headers = hooked(receiver.url)
    push_violation(client, parties)
    run_until_idle(db, clock, policy=DeliveryPolicy(schedule=(0.05,), jitter=0.0, allowed_hosts=FAST.allowed_hosts))
    dead = client.get(f"/v1/webhooks/endpoints/{endpoint_id}/deliveries", headers=headers).json()[0]
    answers = []
    resend = threading.Thread(target=lambda: answers.append(
        client.post(f"/v1/webhooks/deliveries/{dead['id']}/resend", headers=headers)))
    with transaction(db) as session:  # retention, mid-way: the failed delivery's event is going
        events = EventRepository(session)
        events.purged_through(lock=True)
        events.delete_through(session.exec(select(func.max(Event.seq))).one())
        resend.start()
        time.sleep(0.5)  # the resend is under way while the deletion is not committed yet
    resend.join(15)
    assert answers and answers[0].status_code == 404, answers and answers[0].text  # gone with its event


@pytest.mark.parametrize("event_types", [["*"], ["violation.*"], ["violation.published"]])
def test_a_wildcard_or_matching_filter_receives_the_event(client, parties, db, clock, hooked, receivers,
                                                           event_types) -> None:
    receiver = receivers()
    endpoint_id, _, headers = hooked(receiver.url, event_types=event_types)
    record = push_violation(client, parties)
    run_until_idle(db, clock)
    assert [json.loads(body)["data"]["record_id"] for _, body in receiver.received] == [record["id"]]
    endpoint = client.get(f"/v1/webhooks/endpoints/{endpoint_id}", headers=headers).json()
    assert endpoint["event_types"] == event_types  # stored as asked for


def test_an_internal_name_is_refused_without_saying_where_it_points(client, hooked, monkeypatch) -> None:
    _, _, headers = hooked("http://127.0.0.1:9/hooks")  # the tests' allowed loopback
    resolve = destinations.socket.getaddrinfo

    def intranet_dns(host, port, *args, **kwargs):
        if host == "payroll.corp.example":
            return [(destinations.socket.AF_INET, destinations.socket.SOCK_STREAM, 6, "", ("10.20.30.40", port))]
        return resolve(host, port, *args, **kwargs)

    monkeypatch.setattr(destinations.socket, "getaddrinfo", intranet_dns)
    for url in ("http://payroll.corp.example/hooks", "http://localhost:8080/hooks"):
        response = client.post("/v1/webhooks/endpoints", headers=headers, json={"url": url})
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert "not a public address" in response.json()["detail"]
        for address in ("10.20.30.40", "127.0.0.1", "::1"):
            assert address not in response.text
