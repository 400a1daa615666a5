"""Schema fuzzing: schemathesis generates requests for every operation of the OpenAPI document,
valid and invalid, and sends them to the real app on the real database (both), with a token of a
department holding every scope. Each answer must be no server error, a documented status code,
the documented content type, and a body that matches its schema.

Bounded for CI: a fixed number of examples per operation, derandomized so a failure reproduces.
``FUZZ_EXAMPLES`` raises the count for a longer local run.
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
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


def _answers_as_documented(operation, mode: GenerationMode, headers: dict[str, str], **strategy) -> None:
    # Each operation is its own Hypothesis run (schemathesis' lazy pytest plugin does not run on
    # pytest 9), so one operation's failure does not hide another's.
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode, **strategy))
    def exercise(case) -> None:
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
