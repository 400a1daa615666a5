"""Cursors and moments a caller crafts: each is refused with a 422 problem naming the parameter,
or, for a moment without a time zone, read as China Standard Time. Never a 500.

A cursor is opaque only to a polite caller: anyone can base64 a JSON of their choosing, so what
it decodes to (integers past BIGINT, booleans, lone surrogates, NULs, wrong shapes) is input.
"""

import base64
import json

import pytest

from tests.webhook_receivers import push_violation

PROBLEM = "application/problem+json"


def crafted(key) -> str:
    raw = key if isinstance(key, bytes) else json.dumps(key).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


CRAFTED_CURSORS = [
    ("an integer past BIGINT", crafted([2**63])),
    ("a huge integer", crafted([10**60])),
    ("a huge negative integer", crafted([-(10**60)])),
    ("a boolean", crafted([True])),
    ("a float", crafted([1.5])),
    ("null", crafted([None])),
    ("an object", crafted({"id": 1})),
    ("a bare string", crafted("x")),
    ("a nested list", crafted([[1]])),
    ("too many parts", crafted(["a", "b", "c"])),
    ("a lone surrogate", crafted(["\ud800"])),
    ("a NUL", crafted(["a\u0000b"])),
    ("a date and a huge integer", crafted(["2026-01-01", 10**60])),
    ("a date and a lone surrogate", crafted(["2026-01-01", "\ud800"])),
    ("invalid UTF-8", crafted(b"[\"\xff\xfe\"]")),
    ("not JSON", crafted(b"[1,")),
    ("not base64", "!!"),
]

# (party, path, other parameters): every operation that pages with a cursor.
CURSOR_OPERATIONS = [
    ("admin", "/v1/admin/audit", {}),
    ("a", "/v1/objections", {}),
    ("a", "/v1/repair-requests", {}),
    ("a", "/v1/records", {}),
    (None, "/v1/public/organizations", {"q": "华为"}),
    (None, "/v1/public/lists/black", {}),
    (None, "/v1/public/lists/red", {}),
]


def names_the_parameter(response, location: list[str]) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert location in [issue["loc"] for issue in problem["errors"]], problem
    assert location[-1] in problem["detail"], problem


@pytest.mark.parametrize(("party", "path", "params"), CURSOR_OPERATIONS, ids=[p for _, p, _ in CURSOR_OPERATIONS])
def test_a_crafted_cursor_is_refused_naming_it(client, parties, party, path, params) -> None:
    headers = parties[party].headers if party else {}
    for name, cursor in CRAFTED_CURSORS:
        response = client.get(path, headers=headers, params=params | {"cursor": cursor})
        assert response.status_code == 422, f"{name}: {response.status_code} {response.text}"
        names_the_parameter(response, ["query", "cursor"])


def test_a_cursor_of_another_operation_is_refused(client, parties) -> None:
    admin, a = parties["admin"].headers, parties["a"].headers
    client.get("/v1/records", headers=a)
    client.get("/v1/records", headers=a)
    audit_cursor = client.get("/v1/admin/audit", headers=admin, params={"limit": 1}).json()["next_cursor"]
    assert audit_cursor is not None
    # A position where an id is expected, and an id where a position is.
    names_the_parameter(client.get("/v1/objections", headers=a, params={"cursor": audit_cursor}), ["query", "cursor"])
    names_the_parameter(client.get("/v1/admin/audit", headers=admin, params={"cursor": crafted(["obj_1"])}),
                        ["query", "cursor"])


@pytest.mark.parametrize("after", ["²", "١٢٣", "-1", "1e3", " 1", "9" * 19, "0x10"])
def test_a_crafted_feed_position_is_refused_naming_it(client, parties, after) -> None:
    names_the_parameter(client.get("/v1/events", headers=parties["a"].headers, params={"after": after}),
                        ["query", "after"])


class TestMomentsWithoutATimeZone:
    """The test clock stands at 2026-06-15 02:00 UTC, 10:00 China Standard Time; every audit entry
    is written at that moment."""

    def _entries(self, client, admin, **window) -> int:
        # Only the one call the test makes: each listing of the audit log is itself audited.
        response = client.get("/v1/admin/audit", headers=admin, params=window | {"action": "list_departments"})
        assert response.status_code == 200, response.text
        return len(response.json()["items"])

    def test_audit_window_reads_them_as_china_standard_time(self, client, parties) -> None:
        admin = parties["admin"].headers
        client.get("/v1/admin/departments", headers=admin)
        assert self._entries(client, admin, since="2026-06-15") == 1  # the day, from 00:00 CST
        assert self._entries(client, admin, since="2026-06-15T10:00:00") == 1
        assert self._entries(client, admin, since="2026-06-15T10:00:01") == 0  # as UTC it would be 1
        assert self._entries(client, admin, until="2026-06-15T10:00:00") == 0  # as UTC it would be 1
        assert self._entries(client, admin, since="2026-06-16") == 0
        assert self._entries(client, admin, since="2026-06-15T02:00:00Z") == 1  # an explicit zone is kept
        assert self._entries(client, admin, since="2026-06-15T02:00:01Z") == 0

    def test_replay_window_reads_them_as_china_standard_time(self, client, parties, hooked) -> None:
        endpoint_id, _, headers = hooked("http://127.0.0.1:9/hook")
        push_violation(client, parties)

        def replay(**window):
            response = client.post(f"/v1/webhooks/endpoints/{endpoint_id}/replay", headers=headers,
                                   json=window | {"mode": "missing"})
            assert response.status_code == 202, response.text
            return response.json()["queued"]

        assert replay(since="2026-06-15", until="2026-06-15T09:59:59") == 0  # as UTC: every event
        assert replay(since="2026-06-15") >= 1


@pytest.mark.parametrize("moment", ["0001-01-01", "0001-01-01T07:59:59", "0001-01-01T00:00:00+14:00",
                                    "9999-12-31T23:59:59-14:00"])
def test_a_moment_out_of_range_is_refused_naming_it(client, parties, hooked, moment) -> None:
    admin = parties["admin"].headers
    for parameter in ("since", "until"):
        names_the_parameter(client.get("/v1/admin/audit", headers=admin, params={parameter: moment}),
                            ["query", parameter])
    endpoint_id, _, headers = hooked("http://127.0.0.1:9/hook")
    response = client.post(f"/v1/webhooks/endpoints/{endpoint_id}/replay", headers=headers,
                           json={"since": moment, "mode": "missing"})
    names_the_parameter(response, ["body", "since"])


def test_the_extremes_in_range_are_answered(client, parties) -> None:
    admin = parties["admin"].headers
    for moment in ("0001-01-01T08:00:00", "0001-01-01T00:00:00Z", "9999-12-31", "9999-12-31T23:59:59Z",
                   "9999-12-31T23:59:59.999999+08:00"):
        for parameter in ("since", "until"):
            response = client.get("/v1/admin/audit", headers=admin, params={parameter: moment})
            assert response.status_code == 200, f"{parameter}={moment}: {response.text}"
