"""Bulk push over HTTP: NDJSON and CSV (UTF-8 with BOM, GB18030), per-line results, atomic
batches, idempotent replays, and a batch cut short that resumes where it stopped."""

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from datetime import date

import httpx
from sqlmodel import func, select
from typer.testing import CliRunner

from cli.main import cli
from db.session import transaction
from db.tables import Record, WebhookDelivery
from service.access import clients
from service.batches import reading, running
from tests import factories as f
from tests.database_state import audit_statuses, counts, write_lock_held_elsewhere
from tests.live_server import live_server

HUAWEI = f.HUAWEI
NDJSON = {"content-type": "application/x-ndjson"}


def line(type_: str, **values) -> str:
    return json.dumps({"type": type_, **values}, ensure_ascii=False, default=str)


def violation_line(decision_no: str, **overrides) -> str:
    fields = f.violation(decision_no=decision_no).model_dump(mode="json", exclude_none=True) | overrides
    return line("violation", code=HUAWEI, **fields)


def push(client, headers, body: str | bytes, *, content_headers=NDJSON, **params):
    return client.post("/v1/batches", headers=headers | content_headers, params=params,
                       content=body.encode() if isinstance(body, str) else body)


def test_every_kind_in_one_file_with_a_result_per_line(client, parties, db) -> None:
    a, b = parties["a"].headers, parties["b"].headers
    body = "\n".join([
        line("organization", code=HUAWEI, name="华为技术有限公司"),
        violation_line("深市监罚〔2026〕101号"),
        line("rating", code=HUAWEI, **f.rating().model_dump(mode="json", exclude_none=True)),
        line("list_entry", code=HUAWEI, visibility="shared", **f.list_entry("red").model_dump(mode="json",
                                                                                              exclude_none=True)),
        line("disclosure", code=HUAWEI, **f.disclosure().model_dump(mode="json", exclude_none=True)),
        "",
        "{not json",
        violation_line("深市监罚〔2026〕102号", severity="catastrophic"),
        violation_line("深市监罚〔2026〕101号"),  # line 2 again
        line("permit", code=HUAWEI),
        line("violation", **f.violation(decision_no="深市监罚〔2026〕103号").model_dump(mode="json")),
    ]) + "\n"
    response = push(client, a, body)
    assert response.status_code == 200, response.text
    batch = response.json()
    assert (batch["status"], batch["lines"], batch["accepted"], batch["duplicates"], batch["rejected"]) == \
        ("completed", 11, 5, 1, 4)
    results = {r["line"]: r for r in batch["results"]}
    assert sorted(results) == [1, 2, 3, 4, 5, 7, 8, 9, 10, 11]  # the blank line 6 is no record
    assert results[1]["organization"] == HUAWEI and results[1]["outcome"] == "accepted"
    assert results[7]["outcome"] == "rejected" and "not a JSON object" in results[7]["message"]
    assert results[8]["field"] == "severity"
    assert results[9]["outcome"] == "duplicate" and results[9]["existing_id"] == results[2]["record_id"]
    assert results[10]["field"] == "type" and results[11]["field"] == "code"

    record = client.get(f"/v1/records/{results[2]['record_id']}", headers=b).json()  # queryable like any other
    assert record["details"]["decision_no"] == "深市监罚〔2026〕101号" and record["version"] == 1
    types = [e["type"] for e in client.get("/v1/events", headers=a, params={"limit": 100}).json()["data"]]
    assert types == ["organization.updated", "violation.published", "rating.published", "list_entry.added",
                     "disclosure.published", "organization.supervision_changed"]  # the chunk's new class, once

    rejected = client.get(f"/v1/batches/{batch['id']}/results", headers=a,
                          params={"outcome": "rejected", "limit": 3}).json()
    assert [r["line"] for r in rejected["items"]] == [7, 8, 10] and rejected["next_cursor"] == "10"
    rest = client.get(f"/v1/batches/{batch['id']}/results", headers=a,
                      params={"outcome": "rejected", "cursor": rejected["next_cursor"]}).json()
    assert [r["line"] for r in rest["items"]] == [11] and rest["next_cursor"] is None
    assert client.get(f"/v1/batches/{batch['id']}", headers=b).status_code == 404  # another department's


def test_csv_in_utf8_with_bom_and_in_gb18030(client, parties) -> None:
    a = parties["a"].headers
    client.put(f"/v1/organizations/{HUAWEI}", headers=a, json={"name": "华为技术有限公司"})
    header = "type,code,decision_no,decided_on,authority,category,legal_basis,penalty,penalty_types,severity\n"

    def row(number: int) -> str:
        return (f"violation,{HUAWEI},深市监罚〔2026〕{number}号,2026-05-01,深圳市市场监督管理局,产品质量抽查不合格,"
                f"\"《产品质量法》第四十九条\",\"警告，罚款人民币5万元\",warning;fine,general\n")

    utf8 = push(client, a, b"\xef\xbb\xbf" + (header + row(201)).encode(), content_headers={"content-type": "text/csv"})
    assert utf8.status_code == 200 and utf8.json()["accepted"] == 1, utf8.text
    gb = push(client, a, (header + row(202)).encode("gb18030"),
              content_headers={"content-type": "text/csv; charset=GB18030"})
    assert gb.status_code == 200 and gb.json()["accepted"] == 1, gb.text
    record = client.get(f"/v1/records/{gb.json()['results'][0]['record_id']}", headers=a).json()
    assert record["details"]["authority"] == "深圳市市场监督管理局"
    assert record["details"]["penalty_types"] == ["warning", "fine"]
    wrongly_declared = push(client, a, (header + row(203)).encode("gb18030"), content_headers={"content-type": "text/csv"})
    assert wrongly_declared.json()["results"][0]["message"].startswith("the line is not valid utf-8")


def test_a_malformed_csv_line_is_rejected_and_the_next_lines_still_apply(client, parties) -> None:
    # Found by schema fuzzing: a carriage return inside an unquoted cell made the CSV reader raise (500).
    a = parties["a"].headers
    client.put(f"/v1/organizations/{HUAWEI}", headers=a, json={"name": "华为技术有限公司"})
    header = "type,code,decision_no,decided_on,authority,category,legal_basis,penalty,penalty_types,severity\n"
    good = (f"violation,{HUAWEI},深市监罚〔2026〕301号,2026-05-01,深圳市市场监督管理局,产品质量抽查不合格,"
            "第四十九条,警告,warning,general\n")
    response = push(client, a, header + "violation,9144\r0300,x\n" + good, content_headers={"content-type": "text/csv"})
    assert response.status_code == 200, response.text
    first, second = response.json()["results"]
    assert (first["line"], first["outcome"]) == (2, "rejected")
    assert first["message"].startswith("not a valid CSV line")
    assert (second["line"], second["outcome"]) == (3, "accepted")


def test_an_atomic_batch_with_a_bad_line_writes_nothing(client, parties, db) -> None:
    a = parties["a"].headers
    client.put(f"/v1/organizations/{HUAWEI}", headers=a, json={"name": "华为技术有限公司"})
    before = counts(db)
    body = "\n".join([violation_line("深市监罚〔2026〕301号"), violation_line("深市监罚〔2026〕302号", decided_on="soon"),
                      violation_line("深市监罚〔2026〕303号")])
    response = push(client, a, body, atomic="true")
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["batch"]["status"] == "rejected"
    assert [(r["line"], r["field"]) for r in problem["batch"]["results"]] == [(2, "decided_on")]
    assert counts(db) == before  # no record, no event

    good = push(client, a, "\n".join([violation_line("深市监罚〔2026〕301号"), violation_line("深市监罚〔2026〕303号")]),
                atomic="true")
    assert good.status_code == 200 and good.json()["accepted"] == 2


def test_the_same_key_replays_and_a_cut_short_batch_resumes(client, parties, db, clock, monkeypatch) -> None:
    a = parties["a"].headers
    client.put(f"/v1/organizations/{HUAWEI}", headers=a, json={"name": "华为技术有限公司"})
    lines = [line("rating", code=HUAWEI, **f.rating(evaluated_on=date(2026, 1, n)).model_dump(mode="json",
                                                                                             exclude_none=True))
             for n in range(1, 8)]  # ratings: nothing but the batch tells one from a repeat
    monkeypatch.setattr(running, "CHUNK_LINES", 2)

    # A first request that dies after two chunks: its lines are committed, the batch is cut short.
    scopes = frozenset({"records:write"})
    started, _, _ = running.start(lambda: transaction(db), department_code="SZAMR", client_id=parties["a"].client_id,
                               scopes=scopes, key="import-7", format="ndjson", atomic=False, now=clock.now())

    def dies_after_four():
        yield from reading.ndjson_lines([("\n".join(lines[:4]) + "\n").encode()], "utf-8")
        raise ConnectionError("client went away")

    with contextlib.suppress(running.BatchInterrupted):
        running.run(lambda: transaction(db), dies_after_four(), batch=started, after=0, department_code="SZAMR",
                 scopes=scopes, clock=clock)
    busy = push(client, a, "\n".join(lines), **{})
    assert busy.status_code == 200  # no key: a new batch, unrelated
    with transaction(db) as session:
        ratings_before = session.exec(select(func.count()).select_from(Record)).one()

    keyed = a | {"Idempotency-Key": "import-7"}
    # Its request ended with an error, so it was marked cut short: the key resumes it at once,
    # without the resume wait (a batch merely silent gets 409: tests/test_push_outage.py).
    resumed = push(client, keyed, "\n".join(lines))
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["id"] == started.id and resumed.json()["accepted"] == 7
    assert [r["line"] for r in resumed.json()["results"]] == list(range(1, 8))
    with transaction(db) as session:
        assert session.exec(select(func.count()).select_from(Record)).one() == ratings_before + 3  # 5, 6, 7 only

    replay = push(client, keyed, "\n".join(lines))
    assert replay.headers["idempotent-replayed"] == "true" and replay.json()["accepted"] == 7
    with transaction(db) as session:
        assert session.exec(select(func.count()).select_from(Record)).one() == ratings_before + 3


def test_scopes_media_types_and_limits(client, parties, client_for) -> None:
    a = parties["a"].headers
    client.put(f"/v1/organizations/{HUAWEI}", headers=a, json={"name": "华为技术有限公司"})
    assert push(client, parties["reader"].headers, violation_line("深市监罚〔2026〕401号")).status_code == 403
    result = push(client, client_for("SZAMR", "lists:write"), violation_line("深市监罚〔2026〕402号")).json()
    assert result["rejected"] == 1 and "records:write" in result["results"][0]["message"]

    plain = push(client, a, "x", content_headers={"content-type": "text/plain"})
    assert plain.status_code == 415 and plain.headers["content-type"] == "application/problem+json"
    latin = push(client, a, "x", content_headers={"content-type": "text/csv; charset=latin-1"})
    assert latin.status_code == 415
    too_long = push(client, a, "{" + "x" * (reading.MAX_LINE_BYTES + 10) + "}\n" + violation_line("深市监罚〔2026〕403号"))
    assert [r["outcome"] for r in too_long.json()["results"]] == ["rejected", "accepted"]


def test_the_push_command_sends_a_file_in_batches(db, database_url, data_dir, unit_of_work, clock, tmp_path) -> None:
    with unit_of_work() as session:
        f.make_department(session, now=clock.now())
        made = clients.create(session, "SZAMR", name="importer", scopes=["records:write", "lists:write"],
                              now=clock.now())
    lines = [line("organization", code=HUAWEI, name="华为技术有限公司")]
    lines += [violation_line(f"深市监罚〔2026〕{5000 + n}号") for n in range(117)]
    lines.insert(60, violation_line("深市监罚〔2026〕9999号", severity="catastrophic"))  # file line 61
    lines.insert(90, violation_line("深市监罚〔2026〕5001号"))  # file line 91: a duplicate of line 3
    source = tmp_path / "violations.ndjson"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    arguments = ["push", str(source), "--client-id", made.client.client_id, "--client-secret", made.secret,
                 "--batch-lines", "50"]

    with live_server(database_url, data_dir) as base:
        first = CliRunner().invoke(cli, [*arguments, "--url", base])
        assert first.exit_code == 1, first.output  # one line was rejected
        assert "118 accepted, 1 duplicates, 1 rejected" in first.output
        rejects = (tmp_path / "violations.ndjson.rejects.csv").read_text(encoding="utf-8-sig").splitlines()
        assert [row.split(",")[:3] for row in rejects[1:]] == [["61", "rejected", "severity"],
                                                               ["91", "duplicate", ""]]
        records_after_first = counts(db)

        again = CliRunner().invoke(cli, [*arguments, "--url", base])  # the same keys: answered, not re-entered
        assert again.exit_code == 1 and "118 accepted" in again.output
        assert counts(db) == records_after_first


def test_bulk_records_reach_feeds_and_webhooks_as_single_writes_do(client, parties, db, hooked, receivers) -> None:
    a, b = parties["a"].headers, parties["b"].headers
    hooked(receivers().url)  # SZTAX subscribes (and Huawei is registered)
    body = "\n".join([
        violation_line("深市监罚〔2026〕601号", visibility="restricted", shared_with=["SZTAX"]),
        violation_line("深市监罚〔2026〕602号", visibility="restricted"),
        line("list_entry", code=HUAWEI, **f.list_entry("red", decision_no="红〔2026〕1号").model_dump(
            mode="json", exclude_none=True)),
        line("list_entry", code=HUAWEI, **f.list_entry("black", decision_no="黑〔2026〕1号").model_dump(
            mode="json", exclude_none=True)),
        violation_line("深市监罚〔2026〕603号"),
        violation_line("深市监罚〔2026〕603号"),  # the same decision twice in one chunk
    ])
    result = push(client, a, body).json()
    outcomes = [(r["line"], r["outcome"]) for r in result["results"]]
    assert outcomes == [(1, "accepted"), (2, "accepted"), (3, "accepted"), (4, "accepted"), (5, "accepted"),
                        (6, "duplicate")]
    ids = {r["line"]: r["record_id"] for r in result["results"]}
    assert result["results"][5]["existing_id"] == ids[5]
    seen_by_b = {e["data"].get("record_id") for e in
                 client.get("/v1/events", headers=b, params={"limit": 100}).json()["data"]}
    assert ids[1] in seen_by_b and ids[2] not in seen_by_b  # the grant, in bulk as in single writes
    red = client.get(f"/v1/records/{ids[3]}", headers=a).json()
    assert red["status"] == "superseded"  # the public black listing ended it
    with transaction(db) as session:
        delivered_seqs = {d.event_seq for d in session.exec(select(WebhookDelivery))}
    feed_seqs = {e["seq"] for e in client.get("/v1/events", headers=b, params={"limit": 100}).json()["data"]}
    assert delivered_seqs == feed_seqs - {1}  # every event B may see, but the registration before it subscribed


def test_a_batch_cut_short_by_a_busy_database_says_what_is_stored_and_resumes(db, database_url, data_dir,
                                                                              unit_of_work, clock) -> None:
    with unit_of_work() as session:
        f.make_department(session, now=clock.now())
        made = clients.create(session, "SZAMR", name="importer", scopes=["records:write"], now=clock.now())
    lines = [line("organization", code=HUAWEI, name="华为技术有限公司")]
    lines += [violation_line(f"深市监罚〔2026〕{7000 + n}号") for n in range(running.CHUNK_LINES + 100)]
    first, rest = "\n".join(lines[:running.CHUNK_LINES]) + "\n", "\n".join(lines[running.CHUNK_LINES:]) + "\n"
    key = "busy-batch-0001"
    with live_server(database_url, data_dir, REGISTRY_DATABASE_WAIT_SECONDS="0.5",
                     REGISTRY_BATCH_RESUME_SECONDS="2") as base:
        token = httpx.post(f"{base}/v1/auth/token", data={"grant_type": "client_credentials", "client_id":
                           made.client.client_id, "client_secret": made.secret}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key} | NDJSON
        audited_before = audit_statuses(db)
        with contextlib.ExitStack() as held:
            def body() -> Iterator[bytes]:
                yield first.encode()
                time.sleep(1.5)  # the server applies and commits the first chunk meanwhile
                held.enter_context(write_lock_held_elsewhere(database_url))  # then the database is busy
                yield rest.encode()

            cut = httpx.post(f"{base}/v1/batches", headers=headers, content=body(), timeout=30)
        assert cut.status_code == 503, cut.text
        batch_id = cut.json()["detail"].split("batch ")[1].split(" ")[0]
        assert "stopped part way" in cut.json()["detail"] and cut.headers["retry-after"] == "2"
        stored = httpx.get(f"{base}/v1/batches/{batch_id}", headers={"Authorization": f"Bearer {token}"}).json()
        assert stored["status"] == "running" and stored["accepted"] == running.CHUNK_LINES
        time.sleep(2.5)  # Retry-After: the batch counts as cut short now
        resumed = httpx.post(f"{base}/v1/batches", headers=headers, content=first + rest, timeout=30)
        assert resumed.status_code == 200, resumed.text
        assert resumed.json()["accepted"] == len(lines) and resumed.json()["id"] == batch_id
    assert counts(db)[0] == len(lines) - 1  # every violation once; the organization is not a record
    # The cut-short call is audited with its 503 (the lock was gone when its entry was written).
    assert 503 in audit_statuses(db)[len(audited_before):]


def test_a_slow_atomic_batch_does_not_hold_up_other_writes_while_it_is_sent(db, database_url, data_dir,
                                                                            unit_of_work, clock) -> None:
    with unit_of_work() as session:
        f.make_department(session, now=clock.now())
        made = clients.create(session, "SZAMR", name="importer", scopes=["records:write"], now=clock.now())
    lines = [violation_line(f"深市监罚〔2026〕{8000 + n}号") for n in range(running.CHUNK_LINES + 200)]
    split = running.CHUNK_LINES + 100  # a whole chunk arrives first: the old way applied it and took the lock
    first_part_sent, answers = threading.Event(), {}
    with live_server(database_url, data_dir) as base:
        token = httpx.post(f"{base}/v1/auth/token", data={"grant_type": "client_credentials", "client_id":
                           made.client.client_id, "client_secret": made.secret}).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        assert httpx.put(f"{base}/v1/organizations/{HUAWEI}", headers=auth,
                         json={"name": "华为技术有限公司"}).status_code in (200, 201)

        def slow_body() -> Iterator[bytes]:
            yield ("\n".join(lines[:split]) + "\n").encode()
            first_part_sent.set()
            time.sleep(3)
            yield ("\n".join(lines[split:]) + "\n").encode()

        def push_slowly() -> None:
            answers["batch"] = httpx.post(f"{base}/v1/batches", params={"atomic": "true"}, headers=auth | NDJSON,
                                          content=slow_body(), timeout=30)

        pusher = threading.Thread(target=push_slowly)
        pusher.start()
        assert first_part_sent.wait(10)
        time.sleep(0.5)  # the server has the first part
        started = time.monotonic()
        single = httpx.post(f"{base}/v1/organizations/{HUAWEI}/violations", headers=auth, timeout=30,
                            json=f.violation(decision_no="深市监罚〔2026〕8999号").model_dump(mode="json", exclude_none=True))
        took = time.monotonic() - started
        pusher.join(30)
    assert single.status_code == 201, single.text
    assert took < 2, took  # not held until the slow sender finished (2.5 s more)
    assert answers["batch"].status_code == 200 and answers["batch"].json()["accepted"] == len(lines)


def test_the_audit_keeps_the_status_each_answer_had(client, parties) -> None:
    """The audit says what the caller was told: 201 for a registration and a created record (also
    when the answer is a replay of the first), 422 for a refused atomic batch, 200 for a batch that
    went through."""
    a = parties["a"].headers
    registered = {"Idempotency-Key": "audit-registered"}
    for _ in range(2):  # registered, then the first answer replayed: 201 both times, where the route says 200
        assert client.put(f"/v1/organizations/{HUAWEI}", headers=a | registered,
                          json={"name": "华为技术有限公司"}).status_code == 201
    violation = f.violation(decision_no="深市监罚〔2026〕951号").model_dump(mode="json", exclude_none=True)
    key = {"Idempotency-Key": "audit-951"}
    assert client.post(f"/v1/organizations/{HUAWEI}/violations", headers=a | key, json=violation).status_code == 201
    assert client.post(f"/v1/organizations/{HUAWEI}/violations", headers=a | key, json=violation).status_code == 201
    refused = push(client, a, "\n".join([violation_line("深市监罚〔2026〕952号"),
                                         violation_line("深市监罚〔2026〕953号", decided_on="soon")]), atomic="true")
    assert refused.status_code == 422
    assert push(client, a, violation_line("深市监罚〔2026〕954号")).status_code == 200
    entries = client.get("/v1/admin/audit", headers=parties["admin"].headers, params={"limit": 200}).json()["items"]
    told = [(e["action"], e["status"], e["outcome"]) for e in reversed(entries) if e["department"] == "SZAMR"]
    assert told == [("put_organization", 201, "ok"), ("put_organization", 201, "ok"),
                    ("create_violation", 201, "ok"), ("create_violation", 201, "ok"),
                        ("push_batch", 422, "invalid"), ("push_batch", 200, "ok")]
