"""Dead letters a resend or a replay delivered afterwards: no longer counted as failed in /metrics,
and the deliveries list names the delivery that superseded each."""

from service.sync.webhooks.delivery import DeliveryPolicy
from tests.webhook_receivers import FAST, push_violation, run_until_idle

GIVE_UP_FAST = DeliveryPolicy(schedule=(0.05,), jitter=0.0, allowed_hosts=FAST.allowed_hosts)


def failed_in_metrics(client) -> int:
    line = next(line for line in client.get("/metrics").text.splitlines()
                if line.startswith('registry_webhook_deliveries{status="failed"}'))
    return int(line.split()[-1])


class TestSupersededDeadLetters:
    def test_a_resend_and_a_replay_that_succeed_clear_their_dead_letters(self, client, parties, db, clock, hooked,
                                                                         receivers) -> None:
        receiver = receivers((500,))
        endpoint_id, _, headers = hooked(receiver.url)
        push_violation(client, parties)
        push_violation(client, parties)
        run_until_idle(db, clock, policy=GIVE_UP_FAST)
        deliveries = f"/v1/webhooks/endpoints/{endpoint_id}/deliveries"
        dead = client.get(deliveries, headers=headers, params={"status": "failed"}).json()
        assert len(dead) == 2 and [d["superseded_by"] for d in dead] == [None, None]
        assert failed_in_metrics(client) == 2
        dead_first, dead_second = sorted(dead, key=lambda d: d["event_seq"])

        receiver.statuses = [200]  # the receiver is fixed
        resent = client.post(f"/v1/webhooks/deliveries/{dead_first['id']}/resend", headers=headers).json()
        run_until_idle(db, clock)
        assert failed_in_metrics(client) == 1  # the first event got there; the second did not
        listed = {d["id"]: d for d in client.get(deliveries, headers=headers).json()}
        assert listed[resent["id"]]["status"] == "succeeded" and listed[resent["id"]]["superseded_by"] is None
        assert (listed[dead_first["id"]]["status"], listed[dead_first["id"]]["superseded_by"]) == ("failed", resent["id"])
        assert listed[dead_second["id"]]["superseded_by"] is None

        since = (clock.now().replace(year=2020)).isoformat()
        replayed = client.post(f"/v1/webhooks/endpoints/{endpoint_id}/replay", headers=headers,
                               json={"since": since, "mode": "failed"})
        assert replayed.json() == {"queued": 1}  # only the event not delivered yet
        run_until_idle(db, clock)
        assert failed_in_metrics(client) == 0
        listed = client.get(deliveries, headers=headers).json()
        replay = next(d for d in listed if d["event_seq"] == dead_second["event_seq"] and d["status"] == "succeeded")
        still_failed = client.get(deliveries, headers=headers, params={"status": "failed"}).json()
        assert {d["id"]: d["superseded_by"] for d in still_failed} == \
            {dead_first["id"]: resent["id"], dead_second["id"]: replay["id"]}  # kept, and said what delivered them

    def test_a_resend_that_fails_again_leaves_the_dead_letter_counted(self, client, parties, db, clock, hooked,
                                                                      receivers) -> None:
        receiver = receivers((500,))
        endpoint_id, _, headers = hooked(receiver.url)
        push_violation(client, parties)
        run_until_idle(db, clock, policy=GIVE_UP_FAST)
        dead = client.get(f"/v1/webhooks/endpoints/{endpoint_id}/deliveries", headers=headers).json()[0]
        client.post(f"/v1/webhooks/deliveries/{dead['id']}/resend", headers=headers)
        run_until_idle(db, clock)
        listed = client.get(f"/v1/webhooks/endpoints/{endpoint_id}/deliveries", headers=headers).json()
        assert [(d["status"], d["superseded_by"]) for d in listed] == [("failed", None), ("failed", None)]
        assert failed_in_metrics(client) == 2
