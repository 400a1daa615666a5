"""Schema fuzzing: schemathesis generates requests for every operation of the OpenAPI document,
valid and invalid, and sends them to the real app on the real database (both), in a world where
every kind of object exists (tests/fuzz_world.py): path parameters mostly name real objects, list
requests mostly carry real cursors. Each answer must be no server error, a documented status
code, the documented content type, and a body that matches its schema; an operation that
declares a token must refuse a request without one (`ignored_auth`); invalid data must be
refused (`negative_data_rejection`).

The passes: a department holding every scope, with valid and with invalid data; a reader
(records:read only), refused with 403 wherever its scope does not reach; crafted cursors and
moments; and a stateful pass in which a department follows the API's links (create, then read,
change, delete what it created) while another, holding every scope too, must never get what the
first one owns (`object_level_authorization`).

The schema says only "string" of a cursor and "date-time" of a moment, so schemathesis alone
would hardly ever send what a crafted one decodes to. The crafted pass sends those: cursors that
are base64url of huge integers, booleans, lone surrogates and JSON of the wrong shape; moments
naive and aware, at the ends of the calendar and at any offset.

Bounded for CI: a fixed number of examples per operation, derandomized so a failure reproduces.
``FUZZ_EXAMPLES`` raises the count (``make fuzz``).
"""

import base64
import contextlib
import json
import os
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, Phase, example, given, reject, settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky, Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    object_level_authorization,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)

from service.access.actors import ALL_SCOPES, Scope
from tests import fuzz_world
from tests.fuzz_world import LOOPBACK_HOOK, load_schema, resolves_a_name

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))
STATEFUL_SCENARIOS = max(EXAMPLES // 2, 10)  # for each family of objects
BODY = ParameterLocation.BODY
TEXT_BODIES = {"text/csv", "application/x-ndjson"}
ANSWERS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


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


@pytest.fixture
def world(client, parties, client_for, unit_of_work, clock, db, receivers) -> fuzz_world.World:
    headers = {code: client_for(code, *sorted(ALL_SCOPES)) for code in ("SZAMR", "SZTAX")}
    return fuzz_world.build(client, headers, parties, unit_of_work, clock, db, receivers().url)


def _prepare(case, mode: GenerationMode) -> None:
    """No DNS query leaves the machine, no request waits out a long poll, and an invalid case is
    invalid where the app can see it."""
    if mode == GenerationMode.NEGATIVE and case.media_type in TEXT_BODIES and case.meta.is_negative_at(BODY):
        # The document says `type: string` of a CSV or NDJSON body, so the negation is a number
        # or an object, which goes out as its text: a valid body, its lines rejected one by one.
        reject()
    url = case.body.get("url") if isinstance(case.body, dict) else None
    if isinstance(url, str) and (mode == GenerationMode.POSITIVE or resolves_a_name(url)):
        case.body["url"] = LOOPBACK_HOOK
        if mode == GenerationMode.NEGATIVE and any(body.is_valid(case.body) for body in case.operation.body):
            reject()  # the URL was what made it invalid: valid now, it would be "accepted"
    if isinstance(case.query, dict) and isinstance(case.query.get("wait"), int):
        case.query["wait"] = min(case.query["wait"], 1)  # a documented long poll of up to 30 s


def _answers_as_documented(operation, mode: GenerationMode, headers: dict[str, str], checks: list, *,
                           explicit=None, crafted: dict[str, st.SearchStrategy[str]] | None = None,
                           examples: int = EXAMPLES) -> None:
    # Each operation is its own Hypothesis run (schemathesis' lazy pytest plugin does not run on
    # pytest 9), so one operation's failure does not hide another's.
    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode), values=st.fixed_dictionaries(crafted or {}))
    def exercise(case, values: dict[str, str]) -> None:
        if values:
            # One crafted value alone: a generated cursor beside it would be refused first and hide it.
            query = {k: v for k, v in (case.query or {}).items() if k not in CRAFTED}
            case.query = query | {k: v for k, v in values.items() if k in {p.name for p in operation.query}}
            if isinstance(case.body, dict):
                case.body.update({k: v for k, v in values.items() if k not in case.query})
        _prepare(case, mode)
        case.call_and_validate(headers={**(case.headers or {}), **headers}, checks=checks)

    if explicit is not None and mode == GenerationMode.POSITIVE:
        exercise = example(case=explicit, values={})(exercise)  # first, what a client would send
    exercise()


def _every_operation(schema) -> list:
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 50  # every operation of the document, not a filtered few
    return operations


def _required_scopes(operation) -> list[str] | None:
    """The scopes the operation declares (``[]``: any token; None: public)."""
    requirements = operation.definition.raw.get("security")
    return None if not requirements else requirements[0]["departmentToken"]


def _once_per_operation(check, confirmed: set[str]):
    """``check`` until it has passed on a success of the operation (as schemathesis' own runner
    does for `ignored_auth`, whose two probes per success would double the run)."""
    def once(ctx, response, case):
        if case.operation.label in confirmed:
            return None
        result = check(ctx, response, case)
        if 200 <= response.status_code < 300:
            confirmed.add(case.operation.label)
        return result

    once.__name__ = check.__name__
    return once


def _collect(runs, mode: GenerationMode = GenerationMode.POSITIVE) -> dict[str, Exception]:
    failures = {}
    for label, run in runs:
        try:
            run()
        except Unsatisfiable as failure:
            if mode == GenerationMode.POSITIVE:
                failures[label] = failure
            # Negative data for an operation without parameters or body: nothing to get wrong.
        except Exception as failure:  # collected, so one report names every failing operation
            failures[label] = failure
    return failures


def _report(failures: dict[str, Exception]) -> str:
    return "\n\n".join(f"{label}:\n{failure}" for label, failure in failures.items())


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_as_documented(app, client, world, mode) -> None:
    operations = _every_operation(load_schema(app, client, world))
    refused = _malformed_tokens(app)
    confirmed: set[str] = set()
    checks = [*ANSWERS, _once_per_operation(ignored_auth, confirmed), negative_data_rejection]
    failures = _collect(((operation.label, lambda operation=operation: _answers_as_documented(
        operation, mode, world.headers["SZAMR"], checks, explicit=world.explicit_case(operation)))
        for operation in operations), mode)
    assert not failures, _report(failures)
    if mode == GenerationMode.POSITIVE:
        # `ignored_auth` probes an operation only after a success: every one that declares a
        # token got one, on the real ids, so none was left unprobed.
        secured = {operation.label for operation in operations if _required_scopes(operation) is not None}
        assert secured <= confirmed, sorted(secured - confirmed)
        # And it did probe each: one request without a token, one with a malformed one, which the
        # app counted (a scheme schemathesis does not know how to strip would leave this at 0).
        assert _malformed_tokens(app) - refused >= len(secured)


def _malformed_tokens(app) -> int:
    """Bearer tokens the app refused as malformed so far (a counter of its /metrics)."""
    counters = app.state.token_refusals.exposition().splitlines()
    return int(next(line for line in counters if 'reason="malformed"' in line).rsplit(" ", 1)[1])


# Reads sent as POST: a thousand codes do not fit in a query string.
QUERIES_BY_POST = frozenset({"POST /v1/credit-checks"})


def _refused_without_scope(reader: frozenset[str]):
    """The check for a client holding only the ``reader`` scopes, none of which writes."""
    def refused_without_scope(ctx, response, case) -> None:
        required = _required_scopes(case.operation)
        status = response.status_code
        if required is None:
            return
        if not set(required) <= reader:
            assert status == 403, f"a client without {required} got {status}"
        elif case.method != "GET" and case.operation.label not in QUERIES_BY_POST:
            # `[]`: any token may ask, and the service wants records:write or lists:write.
            assert not 200 <= status < 300, f"a client holding only {sorted(reader)} changed something: {status}"
        else:
            assert status != 403, f"a client holding {sorted(reader)} was refused a read"
    return refused_without_scope


def test_a_reader_is_refused_what_its_scope_does_not_reach(app, client, world) -> None:
    """A client holding records:read only, with valid data and real ids: 403 where the operation
    declares a scope it lacks, never a 403 where it holds it, and nothing else undocumented."""
    operations = _every_operation(load_schema(app, client, world))
    checks = [*ANSWERS, _refused_without_scope(frozenset({Scope.RECORDS_READ.value}))]
    failures = _collect((operation.label, lambda operation=operation: _answers_as_documented(
        operation, GenerationMode.POSITIVE, world.headers["reader"], checks, explicit=world.explicit_case(operation),
        examples=max(EXAMPLES // 2, 5)))
        for operation in operations)
    assert not failures, _report(failures)


def _crafted_for(operation) -> dict[str, st.SearchStrategy[str]]:
    names = {parameter.name for parameter in operation.query}
    for body in operation.body:
        names |= set(body.definition.get("schema", {}).get("properties", {}))
    return {name: strategy for name, strategy in CRAFTED.items() if name in names}


def test_crafted_cursors_and_moments_answer_as_documented(app, client, world) -> None:
    """Every operation taking a cursor or a moment, as the department with every scope (so the
    value reaches the code behind the authorization), mostly on real ids, with crafted values in
    otherwise valid requests: a documented 4xx or an answer, never a 500."""
    operations = _every_operation(load_schema(app, client, world))
    runs = [(f"{operation.label} {name}", lambda operation=operation, name=name, values=values: _answers_as_documented(
        operation, GenerationMode.POSITIVE, world.headers["SZAMR"], ANSWERS, crafted={name: values}))
        for operation in operations for name, values in _crafted_for(operation).items()]
    # The audit log, objections, repair requests, records, the feed, search, lists and their
    # export, the credit check, webhook replay: a new one joins by taking such a parameter.
    assert len({label.rsplit(" ", 1)[0] for label, _ in runs}) >= 10, [label for label, _ in runs]
    failures = _collect(runs)
    assert not failures, _report(failures)


# What a department owns and reads back by id, with the lists and creates that lead to it, and
# the read the other department is to be refused; a run each, so each gets its share of the
# scenarios. The admin routes are every department's by design, the public ones nobody's;
# objections and repair requests are decided, never read by id, and a batch's create links to
# nothing (tests/test_ownership.py tries all of them across departments).
OWNED = {
    r"^/v1/(records|list-entries|organizations/[^/]+/\w+$)": "GET /v1/records/{id}",
    r"^/v1/webhooks/": "GET /v1/webhooks/endpoints/{id}",
}


class PeerRequests:
    """ASGI middleware noting the requests that carry one token, the other department's: what
    `object_level_authorization` tried (it reports only what it found)."""

    def __init__(self, app, authorization: str) -> None:
        self.app, self.authorization, self.seen = app, authorization.encode(), []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and (b"authorization", self.authorization) in scope["headers"]:
            self.seen.append(f"{scope['method']} {scope['path']}")
        await self.app(scope, receive, send)


def _except_soft_delete(check):
    """DELETE of a webhook endpoint disables it (documented: "disabled, not erased: its delivery
    log stays readable"); its log, test ping, replay, secret rotation and re-enabling stay open.
    `use_after_free` expects a 404 after a DELETE, so it is off for what follows that one."""
    def checked(ctx, response, case):
        if case.operation.path.startswith("/v1/webhooks/endpoints/{endpoint_id}"):
            return None
        return check(ctx, response, case)

    checked.__name__ = check.__name__
    return checked


def _two_departments(schema, world, checks: list, found: list[FailureGroup]) -> int:
    """SZAMR's scenarios over ``schema``, their failures into ``found``; how many ran."""
    scenarios: list[None] = []

    class TwoDepartments(schema.as_state_machine()):
        rule_order_seed = 16  # every root gets its turn first in some scenario, not the first by name

        def setup(self) -> None:
            scenarios.append(None)

        def step(self, input):
            # What a link supplied stays: that is how the check knows whose object it is.
            world.substitute(input.case, keep={name for _, name in input.applied_parameters})
            _prepare(input.case, GenerationMode.POSITIVE)
            return super().step(input)

        def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
            # Collected, not raised: Hypothesis would replay the scenario to shrink it, and a
            # replay against a database that has moved on is not the same scenario.
            try:
                case.validate_response(response, checks=checks, transport_kwargs=kwargs or None,
                                       recorder=self.recorder)
            except FailureGroup as failure:
                found.append(failure)

    for _ in range(3):
        # A Flaky error is a replay that went differently because the database moved on since; as
        # schemathesis' own runner does, it is no failure (the checks' failures are in `found`),
        # only the end of that run: another one makes up the scenarios it did not get to.
        with contextlib.suppress(Flaky):
            TwoDepartments.run(settings=settings(TwoDepartments.TestCase.settings, max_examples=STATEFUL_SCENARIOS,
                                                 stateful_step_count=10, derandomize=True, database=None))
        if len(scenarios) >= STATEFUL_SCENARIOS:
            break
    return len(scenarios)


def test_one_department_never_gets_what_another_owns(app, client, world, tmp_path) -> None:
    """Stateful: SZAMR follows the links schemathesis infers from the document (create, then
    read, change, delete what was created; lists into the items they list), starting from real
    ids and valid bodies; every successful read of an object of SZAMR's is replayed as SZTAX,
    which also holds every scope, and must not get it (`object_level_authorization`); nor may
    anyone without a token (`ignored_auth`), nor anyone read what a DELETE removed
    (`use_after_free`, where a DELETE removes)."""
    document = tmp_path / "departments.json"
    document.write_text(json.dumps({"auth": [
        {"name": code, "fixedHeaders": [{"name": "Authorization", "value": world.headers[code]["Authorization"]}]}
        for code in ("SZAMR", "SZTAX")]}))
    confirmed: set[str] = set()
    checks = [*ANSWERS, _once_per_operation(ignored_auth, confirmed), _except_soft_delete(use_after_free),
              object_level_authorization]
    found: list[FailureGroup] = []
    for family, refused in OWNED.items():
        # Valid data only: the steps are to succeed, so there is something to replay as the other
        # department; invalid data has its own pass.
        schema = load_schema(app, client, auth={"wfc": {"path": str(document), "user": "SZAMR",
                                                        "peers": ["SZAMR", "SZTAX"]}},
                             mode="positive").include(path_regex=family)
        schema.app = peer = PeerRequests(app, world.headers["SZTAX"]["Authorization"])
        assert _two_departments(schema, world, checks, found) >= STATEFUL_SCENARIOS
        # The check replays what it has reason to think is SZAMR's: a record or an endpoint it
        # created, or one its list shows and SZTAX's does not.
        replayed = {re.sub(r"/(rec|whe)_\w+", "/{id}", request) for request in peer.seen}
        assert refused in replayed, (family, sorted(replayed))
    assert not found, "\n\n".join(str(failure) for failure in found)
