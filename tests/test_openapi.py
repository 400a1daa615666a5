"""The checked-in spec is what the app serves (regenerate: make openapi)."""

import json

from api.export_openapi import SPEC_PATH, render


def test_checked_in_spec_matches_the_app() -> None:
    assert SPEC_PATH.read_text(encoding="utf-8") == render(), "openapi/openapi.json is stale: run `make openapi`"


def test_operation_ids_are_stable_names() -> None:
    spec = json.loads(render())
    ids = sorted(op["operationId"] for path in spec["paths"].values() for op in path.values())
    assert ids == ["get_public_organization", "healthz", "readyz"]


def test_errors_are_documented_as_problems() -> None:
    spec = json.loads(render())
    responses = spec["paths"]["/v1/public/organizations/{code}"]["get"]["responses"]
    for status in ("404", "422"):
        assert responses[status]["content"] == {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        }
