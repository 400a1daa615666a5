"""Schema fuzzing: schemathesis generates requests for every operation of the OpenAPI document,
valid and invalid, and sends them to the real app on the real database (both), with a token of a
department holding every scope. Each answer must be no server error, a documented status code,
the documented content type, and a body that matches its schema.

Bounded for CI: a fixed number of examples per operation, derandomized so a failure reproduces.
``FUZZ_EXAMPLES`` raises the count for a longer local run.

The schema says only "string" of a cursor and "date-time" of a moment, so schemathesis alone
would hardly ever send what a crafted one decodes to. A third pass sends those: cursors that are
base64url of huge integers, booleans, lone surrogates and JSON of the wrong shape; moments naive
and aware, at the ends of the calendar and at any offset.
"""

import base64
import json
import os
from datetime import date, datetime, timedelta, timezone

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from service import records, webhooks
from service.access import ALL_SCOPES
from tests import factories as f

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Webhook URLs are checked by resolving their host; a generated host name would send DNS queries
# off the machine, so every generated URL that is a string points at a closed loopback port.
LOOPBACK_HOOK = "http://127.0.0.1:9/hook"


def _base64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


_KEY_PARTS = st.one_of(
    st.integers(), st.sampled_from([2**63, -(2**63) - 1, 10**60, -(10**60)]), st.booleans(), st.none(),
    st.floats(), st.text(max_size=12), st.dates().map(date.isoformat),
    st.sampled_from(["\ud800", "a\x00b", "²", "obj_01J0000000000000000000000"]),
)
# json.dumps escapes what UTF-8 cannot carry, so a lone surrogate reaches the decoder.
_CURSOR_KEYS = st.recursive(_KEY_PARTS, lambda inner: st.lists(inner, max_size=3) |
                            st.dictionaries(st.text(max_size=4), inner, max_size=2), max_leaves=6)
_EDGE_CURSORS = [[2**63], [-(2**63) - 1], [10**60], [True], [1.5], [None], ["\ud800"], ["a\x00b"],
                 ["2026-01-01", 10**60], ["2026-01-01", "\ud800"], [0], ["obj_01J0000000000000000000000"]]
CRAFTED_CURSORS = st.one_of(
    st.sampled_from(_EDGE_CURSORS).map(lambda key: _base64url(json.dumps(key).encode())),
    st.lists(_KEY_PARTS, min_size=1, max_size=2).map(lambda key: _base64url(json.dumps(key).encode())),
    _CURSOR_KEYS.map(lambda key: _base64url(json.dumps(key).encode())),
    st.binary(max_size=48).map(_base64url),  # not UTF-8, not JSON
    st.text(max_size=24),  # not base64 at all; superscript and other non-ASCII digits for the feed
    st.integers().map(str),  # feed positions, in and far out of range
)
_OFFSETS = st.timedeltas(min_value=-timedelta(hours=23, minutes=59), max_value=timedelta(hours=23, minutes=59)
                         ).map(timezone)
CRAFTED_MOMENTS = st.one_of(
    st.datetimes().map(datetime.isoformat),  # naive: read as China Standard Time
    st.datetimes(timezones=_OFFSETS).map(datetime.isoformat),
    st.tuples(st.sampled_from([datetime.min, datetime.max]), _OFFSETS | st.none()).map(
        lambda edge: edge[0].replace(tzinfo=edge[1]).isoformat()),  # past year 1 or 9999 once in UTC
    st.dates().map(date.isoformat),
    st.text(max_size=24),
)
CRAFTED = {"cursor": CRAFTED_CURSORS, "after": CRAFTED_CURSORS,
           "since": CRAFTED_MOMENTS, "until": CRAFTED_MOMENTS, "as_of": CRAFTED_MOMENTS}


class Seeded:
    def __init__(self, headers: dict[str, str], known: dict[str, str]) -> None:
        self.headers, self.known = headers, known


@pytest.fixture
def seeded(app, unit_of_work, clock, client_for) -> Seeded:
    """Things to find (Huawei with a public violation, a webhook endpoint), and a department
    holding every scope."""
    with unit_of_work() as session:
        f.make_department(session, now=clock.now())
        f.make_organization(session, now=clock.now(), code=f.HUAWEI, name="华为技术有限公司")
        record_id = records.publish(session, f.HUAWEI, f.violation(), department_code="SZAMR", now=clock.now()).id
        endpoint = webhooks.create(session, "SZAMR", webhooks.EndpointCreate(url=LOOPBACK_HOOK), now=clock.now(),
                                   allowed_hosts=frozenset({"127.0.0.1"}))
    known = {"code": f.HUAWEI, "record_id": record_id, "endpoint_id": endpoint.endpoint.id, "list_name": "black"}
    return Seeded(client_for("SZAMR", *sorted(ALL_SCOPES)), known)


def _answers_as_documented(operation, mode: GenerationMode, headers: dict[str, str], *,
                           crafted: dict[str, st.SearchStrategy[str]] | None = None, **strategy) -> None:
    # Each operation is its own Hypothesis run (schemathesis' lazy pytest plugin does not run on
    # pytest 9), so one operation's failure does not hide another's.
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode, **strategy), values=st.fixed_dictionaries(crafted or {}))
    def exercise(case, values: dict[str, str]) -> None:
        if values:
            # One crafted value alone: a generated cursor beside it would be refused first and hide it.
            query = {k: v for k, v in (case.query or {}).items() if k not in CRAFTED}
            case.query = query | {k: v for k, v in values.items() if k in {p.name for p in operation.query}}
            if isinstance(case.body, dict):
                case.body.update({k: v for k, v in values.items() if k not in case.query})
        if isinstance(case.body, dict) and isinstance(case.body.get("url"), str):
            case.body["url"] = LOOPBACK_HOOK
        if isinstance(case.query, dict) and isinstance(case.query.get("wait"), int):
            case.query["wait"] = min(case.query["wait"], 1)  # a documented long poll of up to 30 s
        case.call_and_validate(headers={**headers, **(case.headers or {})}, checks=CHECKS)

    exercise()


def _passes(operations, known: dict[str, str]):
    """Every operation with generated parameters; then again, where every path parameter names
    something that exists, with those fixed (random ids mostly find nothing, so the code behind
    a 404 would go untried)."""
    for operation in operations:
        yield operation, {}
    for operation in operations:
        names = [parameter.name for parameter in operation.path_parameters]
        if names and all(name in known for name in names):
            yield operation, {"path_parameters": {name: known[name] for name in names}}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_as_documented(app, seeded, mode) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 50  # every operation of the document, not a filtered few
    failures = {}
    for operation, strategy in _passes(operations, seeded.known):
        try:
            _answers_as_documented(operation, mode, seeded.headers, **strategy)
        except Unsatisfiable:
            if mode == GenerationMode.POSITIVE:
                raise
            # Negative data for an operation without parameters or body: there is nothing to get wrong.
        except Exception as failure:  # collected, so one report names every failing operation
            label = operation.label + (" on known ids" if strategy else "")
            failures[label] = failure
    assert not failures, "\n\n".join(f"{label}:\n{failure}" for label, failure in failures.items())


def _crafted_for(operation) -> dict[str, st.SearchStrategy[str]]:
    names = {parameter.name for parameter in operation.query}
    for body in operation.body:
        names |= set(body.definition.get("schema", {}).get("properties", {}))
    return {name: strategy for name, strategy in CRAFTED.items() if name in names}


def test_crafted_cursors_and_moments_answer_as_documented(app, seeded) -> None:
    """Every operation taking a cursor or a moment, as the department with every scope (so the
    value reaches the code behind the authorization) and on known ids, with crafted values in
    otherwise valid requests: a documented 4xx or an answer, never a 500."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    failures, exercised = {}, []
    for operation, strategy in _passes(operations, seeded.known):
        if operation.path_parameters and not strategy:
            continue  # without known ids the request stops at a 404 before the value is read
        for name, values in _crafted_for(operation).items():
            label = f"{operation.label} {name}"
            exercised.append(label)
            try:
                _answers_as_documented(operation, GenerationMode.POSITIVE, seeded.headers, crafted={name: values},
                                       **strategy)
            except Exception as failure:  # collected, so one report names every failing operation
                failures[label] = failure
    # The audit log, objections, repair requests, records, the feed, search, lists and their
    # export, the credit check, webhook replay: a new one joins by taking such a parameter.
    assert len({label.rsplit(" ", 1)[0] for label in exercised}) >= 10, exercised
    assert not failures, "\n\n".join(f"{label}:\n{failure}" for label, failure in failures.items())
