"""Reading and validating batch lines: numbers that do not depend on how the body arrived, and
text a database cannot store rejected as a line, never a stuck batch."""

import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from service.batches import applying, reading
from service.records.fields import ViolationFields
from tests import factories as f

HUAWEI = f.HUAWEI
NDJSON = {"content-type": "application/x-ndjson"}
LONG_LINE_BYTES = 10 * 1024 * 1024


def line(type_: str, **values) -> str:
    return json.dumps({"type": type_, **values}, ensure_ascii=False, default=str)


def violation_line(decision_no: str, **overrides) -> str:
    fields = f.violation(decision_no=decision_no).model_dump(mode="json", exclude_none=True) | overrides
    return line("violation", code=HUAWEI, **fields)


def push_in_pieces(client, headers: dict[str, str], pieces: Iterator[bytes]) -> httpx.Response:
    """POST /v1/batches with the body handed to the app in exactly these pieces, one ASGI message
    each, as a network would cut it (TestClient joins a streamed body into one message)."""

    async def body() -> AsyncIterator[bytes]:
        for piece in pieces:
            yield piece

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=client.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=120) as http:
            return await http.post("/v1/batches", headers=headers | NDJSON, content=body())

    return client.portal.call(send)


def cut(body: bytes, small: int, marks: list[int], window: int) -> Iterator[bytes]:
    """The body in pieces of ``small`` bytes within ``window`` bytes of each mark (line starts, the
    limit inside the long line), and in pieces of up to 1 MiB between them."""
    position = 0
    while position < len(body):
        if any(mark - window <= position < mark + window for mark in marks):
            size = small
        else:
            ahead = [mark - window for mark in marks if mark - window > position]
            size = min(1024 * 1024, min(ahead, default=len(body)) - position)
        yield body[position:position + size]
        position += size


class TestOverLongLines:
    @pytest.mark.parametrize("chunking", ["whole", "64KiB", "1MiB", "7 bytes near the edges", "1 byte near the edges"])
    def test_a_10mb_line_is_one_rejected_line_whatever_the_chunking(self, client, parties, chunking) -> None:
        a = parties["a"].headers
        lines = [line("organization", code=HUAWEI, name="华为技术有限公司"),
                 violation_line("深市监罚〔2026〕501号"),
                 line("violation", code=HUAWEI, penalty="罚" * (LONG_LINE_BYTES // 3)),
                 violation_line("深市监罚〔2026〕502号"),
                 violation_line("深市监罚〔2026〕503号")]
        body = ("\n".join(lines) + "\n").encode()
        starts = [0]
        for text in lines:
            starts.append(starts[-1] + len(text.encode()) + 1)
        marks = [*starts, starts[2] + reading.MAX_LINE_BYTES]
        pieces = {"whole": iter([body]),
                  "64KiB": (body[i:i + 65536] for i in range(0, len(body), 65536)),
                  "1MiB": (body[i:i + 1024 * 1024] for i in range(0, len(body), 1024 * 1024)),
                  "7 bytes near the edges": cut(body, 7, marks, window=20_000),
                  "1 byte near the edges": cut(body, 1, marks, window=300)}[chunking]

        response = push_in_pieces(client, a, pieces)

        assert response.status_code == 200, response.text
        batch = response.json()
        assert (batch["status"], batch["lines"], batch["accepted"], batch["rejected"]) == ("completed", 5, 4, 1)
        results = {r["line"]: (r["outcome"], r["message"]) for r in batch["results"]}
        assert results == {1: ("accepted", None), 2: ("accepted", None),
                           3: ("rejected", f"line longer than {reading.MAX_LINE_BYTES} bytes"),
                           4: ("accepted", None), 5: ("accepted", None)}
        stored = client.get(f"/v1/batches/{batch['id']}/results", headers=a, params={"outcome": "rejected"}).json()
        assert [r["line"] for r in stored["items"]] == [3]
        decisions = {r["line"]: client.get(f"/v1/records/{r['record_id']}", headers=a).json()["details"]["decision_no"]
                     for r in batch["results"] if r["record_id"]}
        assert decisions == {2: "深市监罚〔2026〕501号", 4: "深市监罚〔2026〕502号", 5: "深市监罚〔2026〕503号"}

    def test_the_limit_is_on_the_line_as_sent_whatever_the_chunking(self, client, parties) -> None:
        """A line of exactly the limit is read; one byte more is rejected; in one piece or a byte at a time."""
        a = parties["a"].headers
        client.put(f"/v1/organizations/{HUAWEI}", headers=a, json={"name": "华为技术有限公司"})
        for number, pieces in enumerate((lambda b: iter([b]), lambda b: (b[i:i + 1] for i in range(len(b))))):
            fitting = violation_line(f"深市监罚〔2026〕6{number}1号")
            fitting = fitting[:-1] + " " * (reading.MAX_LINE_BYTES - len(fitting.encode())) + "}"
            over = violation_line(f"深市监罚〔2026〕6{number}2号")
            over = over[:-1] + " " * (reading.MAX_LINE_BYTES + 1 - len(over.encode())) + "}"
            after = violation_line(f"深市监罚〔2026〕6{number}3号")
            body = "\n".join([fitting, over, after]).encode()  # no final newline: the last line still counts
            batch = push_in_pieces(client, a, pieces(body)).json()
            assert [(r["line"], r["outcome"]) for r in batch["results"]] == \
                [(1, "accepted"), (2, "rejected"), (3, "accepted")]


def ascii_line(type_: str, **values) -> str:
    # JSON escapes for everything outside ASCII: a lone surrogate can only travel as "\ud800".
    return json.dumps({"type": type_, **values}, default=str)


def fields_of(kind: str, **overrides) -> dict:
    made = {"rating": f.rating, "violation": f.violation, "disclosure": f.disclosure,
            "list_entry": lambda **o: f.list_entry("black", **o)}[kind]()
    return made.model_dump(mode="json", exclude_none=True) | overrides


class TestTextTheDatabaseCannotStore:
    def test_nul_and_lone_surrogates_are_rejected_lines_in_any_field(self, client, parties, db) -> None:
        a = parties["a"].headers
        other = f.new_uscc()
        violation = fields_of("violation")
        lines = {
            1: ascii_line("organization", code=HUAWEI, name="华为技术有限公司"),
            2: ascii_line("rating", code=HUAWEI, **fields_of("rating", grade="A\x00")),
            3: ascii_line("rating", code=HUAWEI, **fields_of("rating", grade="A\ud800")),
            4: ascii_line("violation", code=HUAWEI, **fields_of("violation", decision_no="深市监罚〔2026〕701号")),
            5: ascii_line("violation", code=HUAWEI, **violation | {"authority": "深圳\ud800"}),
            6: ascii_line("violation", code=HUAWEI, **violation | {"penalty": "警告\x00"}),
            7: ascii_line("organization", code=other, name="华为\ud800"),
            8: ascii_line("violation", code=HUAWEI, visibility="restricted", shared_with=["SZTAX\x00"], **violation),
            9: ascii_line("rating", code=HUAWEI, **fields_of("rating", scheme="default\x00")),
            10: ascii_line("disclosure", code=HUAWEI, **fields_of("disclosure", url="https://example.com/\ud800")),
            11: ascii_line("list_entry", code=HUAWEI, **fields_of("list_entry", reason="\udfff")),
            12: ascii_line("violation", code=HUAWEI, **violation | {"internal_notes": "\x00"}),
            13: ascii_line("violation", code=HUAWEI + "\x00", **violation),
            14: ascii_line("violation", code=HUAWEI, **violation | {"x\x00y": 1}),
            15: ascii_line("violation", code=HUAWEI, **violation | {"penalty_types": ["fine\x00"]}),
            16: ascii_line("organization", code=other, name="某某质量有限公司", address="\x00"),
            17: ascii_line("rating", code=HUAWEI, **fields_of("rating")),
            18: ascii_line("violation", code=HUAWEI, **fields_of("violation", decision_no="深市监罚〔2026〕702号")),
        }
        body = "\n".join(lines[number] for number in sorted(lines)) + "\n"
        assert "\\ud800" in body and "\\u0000" in body

        response = client.post("/v1/batches", headers=a | NDJSON, content=body.encode())

        assert response.status_code == 200, response.text
        batch = response.json()
        assert (batch["status"], batch["lines"], batch["accepted"], batch["rejected"]) == ("completed", 18, 4, 14)
        fields = {r["line"]: r["field"] for r in batch["results"] if r["outcome"] == "rejected"}
        assert fields == {2: "grade", 3: "grade", 5: "authority", 6: "penalty", 7: "name", 8: "shared_with",
                          9: "scheme", 10: "url", 11: "reason", 12: "internal_notes", 13: "code", 14: "x\\u0000y",
                          15: "penalty_types", 16: "address"}
        messages = {r["line"]: r["message"] for r in batch["results"] if r["outcome"] == "rejected"}
        assert all("lone surrogates" in messages[n] for n in (3, 5, 7, 10, 11))
        assert all("control characters" in messages[n] for n in (2, 6, 8, 9, 12, 13, 15, 16))
        stored = client.get(f"/v1/batches/{batch['id']}/results", headers=a, params={"outcome": "rejected"}).json()
        assert {r["line"]: r["field"] for r in stored["items"]} == fields
        assert client.get(f"/v1/batches/{batch['id']}", headers=a).json()["status"] == "completed"

    def test_the_single_write_refuses_a_nul_grade_naming_the_field(self, client, parties) -> None:
        a = parties["a"].headers
        client.put(f"/v1/organizations/{HUAWEI}", headers=a, json={"name": "华为技术有限公司"})
        for grade, says in (("A\x00", "control characters"), ("A\ud800", "lone surrogates")):
            response = client.post(f"/v1/organizations/{HUAWEI}/ratings", headers=a | {"content-type": "application/json"},
                                   content=json.dumps(fields_of("rating", grade=grade)).encode())
            assert response.status_code == 422, response.text
            assert response.headers["content-type"] == "application/problem+json"
            assert "grade" in response.text and says in response.text

    def test_a_value_longer_than_its_column_is_a_rejected_line_on_both_databases(self, client, parties, db) -> None:
        """A decision number of 150 characters was accepted by validation (up to 200) and refused
        by PostgreSQL's column (100), while SQLite stored it: now validation holds the column's
        length, so both databases reject that line alike, with its field, and store the others."""
        a = parties["a"].headers
        long_number = "深市监罚〔2026〕" + "9" * 140 + "号"
        body = "\n".join([
            ascii_line("organization", code=HUAWEI, name="华为技术有限公司"),
            ascii_line("violation", code=HUAWEI, **fields_of("violation", decision_no="深市监罚〔2026〕801号")),
            ascii_line("violation", code=HUAWEI, **fields_of("violation", decision_no=long_number)),
            ascii_line("violation", code=HUAWEI, **fields_of("violation", decision_no="深市监罚〔2026〕802号")),
        ]) + "\n"

        batch = client.post("/v1/batches", headers=a | NDJSON, content=body.encode()).json()

        assert batch["status"] == "completed"
        outcomes = {r["line"]: r["outcome"] for r in batch["results"]}
        assert outcomes == {1: "accepted", 2: "accepted", 3: "rejected", 4: "accepted"}
        refused = next(r for r in batch["results"] if r["line"] == 3)
        assert refused["field"] == "decision_no" and "100" in refused["message"]
        again = client.post("/v1/batches", headers=a | NDJSON, content=body.encode()).json()
        assert again["status"] == "completed" and again["duplicates"] == 2

    def test_text_no_driver_can_send_is_a_rejected_line_on_both_databases(self, client, parties, monkeypatch) -> None:
        """Should validation ever let a lone surrogate through, neither driver can encode it: that
        line is rejected, the rest of its chunk is stored."""

        class Unchecked:  # a validation gap: the decision number is taken as sent
            @staticmethod
            def model_validate(values: dict) -> ViolationFields:
                checked = ViolationFields.model_validate(values | {"decision_no": "深市监罚〔2026〕000号"})
                return checked.model_copy(update={"decision_no": values["decision_no"]})

        monkeypatch.setitem(applying.FIELDS_OF, "violation", Unchecked)
        a = parties["a"].headers
        body = "\n".join([
            ascii_line("organization", code=HUAWEI, name="华为技术有限公司"),
            ascii_line("violation", code=HUAWEI, **fields_of("violation", decision_no="深市监罚〔2026〕901号")),
            ascii_line("violation", code=HUAWEI, **fields_of("violation", decision_no="深市监罚\ud800")),
            ascii_line("violation", code=HUAWEI, **fields_of("violation", decision_no="深市监罚〔2026〕902号")),
        ]) + "\n"

        batch = client.post("/v1/batches", headers=a | NDJSON, content=body.encode()).json()

        assert batch["status"] == "completed", batch
        assert {r["line"]: r["outcome"] for r in batch["results"]} == \
            {1: "accepted", 2: "accepted", 3: "rejected", 4: "accepted"}
        assert "the database cannot store" in batch["results"][2]["message"]
