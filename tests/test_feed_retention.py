"""Event retention and resync: old events leave the feed from the front only, never past a pending
webhook delivery; an expired cursor answers 410 with how to start again; GET /v1/records lists
what a department may see with the feed position to continue from."""

from sqlmodel import select
from typer.testing import CliRunner

from api.settings import get_settings
from cli.main import cli
from db.session import transaction
from db.tables import WebhookDelivery
from service.sync import retention
from tests import factories as f
from tests.test_feed import read_all
from tests.webhook_receivers import HUAWEI, push_violation, run_until_idle

KEEP = 30


def prune(db, clock) -> int:
    return retention.prune_events(lambda: transaction(db), now=clock.now(), keep_days=KEEP)


def feed(client, headers, after):
    return client.get("/v1/events", headers=headers, params={} if after is None else {"after": after})


def test_retention_deletes_an_old_prefix_but_never_past_a_pending_delivery(client, parties, db, clock, hooked,
                                                                          receivers) -> None:
    reader = parties["b"].headers
    hooked(receivers().url)  # seq 1: the organization; then SZTAX subscribes
    for _ in range(5):  # 2..6: delivered
        push_violation(client, parties)
    run_until_idle(db, clock)
    for _ in range(4):  # 7..10: deliveries wait for the worker
        push_violation(client, parties)

    clock.advance(days=KEEP + 1)
    push_violation(client, parties)  # 11: recent
    assert prune(db, clock) == 6  # 1..6 go; 7 has a pending delivery, so 7..11 stay
    assert feed(client, reader, "5").status_code == 410
    expired = feed(client, reader, "5").json()
    assert expired["oldest_cursor"] == "6" and expired["resync"] == "/v1/records"
    assert [e["seq"] for e in feed(client, reader, "6").json()["data"]] == [7, 8, 9, 10, 11]
    assert [e["seq"] for e in feed(client, reader, None).json()["data"]] == [7, 8, 9, 10, 11]

    run_until_idle(db, clock)  # the pending deliveries succeed
    assert prune(db, clock) == 4  # 7..10; 11 is recent
    assert feed(client, reader, "9").status_code == 410
    assert [e["seq"] for e in feed(client, reader, "10").json()["data"]] == [11]
    with transaction(db) as session:
        assert {d.event_seq for d in session.exec(select(WebhookDelivery))} == {11}
    push_violation(client, parties)
    assert [e["seq"] for e in feed(client, reader, "now").json()["data"]] == []
    assert [e["seq"] for e in feed(client, reader, "11").json()["data"]] == [12]  # numbering goes on
    assert prune(db, clock) == 0


def register(client, parties) -> None:
    client.put(f"/v1/organizations/{HUAWEI}", headers=parties["a"].headers, json={"name": "华为技术有限公司"})


def test_everything_pruned_the_head_stays_where_it_was(client, parties, db, clock) -> None:
    register(client, parties)
    push_violation(client, parties)
    clock.advance(days=KEEP + 1)
    assert prune(db, clock) == 2
    body = feed(client, parties["b"].headers, "now").json()
    assert body == {"data": [], "next_cursor": "2", "has_more": False}
    assert feed(client, parties["b"].headers, "2").status_code == 200
    assert feed(client, parties["b"].headers, "1").status_code == 410
    assert feed(client, parties["b"].headers, "3").status_code == 422  # still: ahead of the feed


def test_a_subscriber_resyncs_from_the_records_listing(client, parties, db, clock) -> None:
    a, b = parties["a"], parties["b"]
    register(client, parties)
    shown = [push_violation(client, parties, visibility="shared")["id"] for _ in range(3)]
    hidden = push_violation(client, parties, visibility="restricted")["id"]
    rating = client.post(f"/v1/organizations/{HUAWEI}/ratings", headers=a.headers,
                         json=f.rating().model_dump(mode="json", exclude_none=True)).json()["id"]

    first = client.get("/v1/records", headers=b.headers, params={"limit": 2}).json()
    sync_cursor = first["sync_cursor"]
    listed, page = [], first
    while True:
        listed += [item["id"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        later = push_violation(client, parties, visibility="shared")["id"]  # a change while paging
        page = client.get("/v1/records", headers=b.headers, params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert hidden not in listed and {*shown, rating} <= set(listed)
    assert listed == sorted(set(listed))  # creation order, each once
    tail, _ = read_all(client, b.headers, after=sync_cursor)
    assert later in {e["data"].get("record_id") for e in tail}  # the feed carries what paging may have missed

    violations = client.get("/v1/records", headers=b.headers, params={"kind": "violation", "limit": 200}).json()
    assert rating not in {item["id"] for item in violations["items"]}
    assert hidden in {item["id"] for item in client.get("/v1/records", headers=a.headers,
                                                        params={"limit": 200}).json()["items"]}
    bad = client.get("/v1/records", headers=b.headers, params={"cursor": "nonsense"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["query", "cursor"]


def test_prune_events_from_the_cli(client, parties, db, database_url, data_dir, monkeypatch) -> None:
    register(client, parties)
    push_violation(client, parties)  # at the test clock's date, months before today
    monkeypatch.setenv("REGISTRY_DATABASE_URL", database_url)
    monkeypatch.setenv("REGISTRY_DATA_DIR", str(data_dir))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["prune-events", "--keep-days", "30"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0 and "deleted 2 events" in result.output
    assert feed(client, parties["b"].headers, "1").status_code == 410


def test_a_disabled_endpoints_backlog_does_not_hold_retention(client, parties, db, clock, hooked, receivers) -> None:
    endpoint_id, _, hooks = hooked(receivers().url)
    push_violation(client, parties)  # 2: a delivery that waits
    client.patch(f"/v1/webhooks/endpoints/{endpoint_id}", headers=hooks, json={"status": "disabled"})
    clock.advance(days=KEEP + 1)
    assert prune(db, clock) == 2  # the disabled endpoint's pending delivery goes with its event
