"""A client generated from openapi/openapi.json by a maintained generator (openapi-python-client)
works against the real server: a public lookup, a department write with a token from
/v1/auth/token, and a batch's status. A document that does not resolve stops the generator."""

import importlib
import json
import re
import subprocess
import sys
from types import ModuleType

import pytest

from api.export_openapi import SPEC_PATH
from tests import factories as f
from tests.live_server import live_server

PACKAGE = "registry_client"
# The generator has no model for raw NDJSON or CSV bodies, so it leaves out the bulk push (and
# says so), and the bulk credit check's CSV form (it keeps the JSON form). Anything else it leaves
# out is a fault of the document, and fails here.
KNOWN_GAPS = {"WARNING parsing POST /v1/batches within batches. Endpoint will not be generated.",
              "WARNING parsing POST /v1/credit-checks within credit.",
              "Unsupported content type application/x-ndjson", "Unsupported content type text/csv"}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """The client package generated from the checked-in document, importable as ``registry_client``."""
    where = tmp_path_factory.mktemp("generated")
    config = where / "config.json"
    config.write_text(json.dumps({"post_hooks": []}))  # no formatter run: only the code matters here
    run = subprocess.run([sys.executable, "-m", "openapi_python_client", "generate", "--path", str(SPEC_PATH),
                          "--meta", "none", "--output-path", str(where / PACKAGE), "--config", str(config)],
                         capture_output=True, text=True, timeout=300)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    warnings = {line.strip() for line in output.split("Warning(s) encountered", 1)[-1].splitlines()
                if re.match(r"\s*(WARNING|ERROR|Unsupported|Cannot|Could not|Unable)", line)}
    assert warnings <= KNOWN_GAPS, output
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(where))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def test_a_generated_client_looks_up_writes_and_reads_a_batch(generated, parties, unit_of_work, clock,
                                                               database_url, data_dir) -> None:
    from registry_client import AuthenticatedClient, Client
    from registry_client.api.auth import issue_token
    from registry_client.api.batches import get_batch
    from registry_client.api.organizations import create_violation
    from registry_client.api.public import get_public_organization
    from registry_client.models import IssueTokenBody, ViolationCreate

    a = parties["a"]
    with unit_of_work() as session:
        f.make_organization(session, now=clock.now(), code=f.HUAWEI, name="华为技术有限公司")
    violation = f.violation(decision_no="深市监罚〔2026〕77号").model_dump(mode="json", exclude_none=True)

    with live_server(database_url, data_dir) as base:
        anonymous = Client(base_url=base, raise_on_unexpected_status=True)
        token = issue_token.sync(client=anonymous, body=IssueTokenBody.from_dict(
            {"grant_type": "client_credentials", "client_id": a.client_id, "client_secret": a.secret}))
        department = AuthenticatedClient(base_url=base, token=token.access_token, raise_on_unexpected_status=True)

        written = create_violation.sync_detailed(f.HUAWEI, client=department, body=ViolationCreate.from_dict(violation))
        assert written.status_code == 201, written.content
        assert (written.parsed.kind, written.parsed.department) == ("violation", "SZAMR")

        profile = get_public_organization.sync("91440300 1922 0382 16", client=anonymous)  # a typed form
        assert (profile.code, profile.name) == (f.HUAWEI, "华为技术有限公司")
        assert [r.id for r in profile.records] == [written.parsed.id]

        line = {"type": "violation", "code": f.HUAWEI, **f.violation(decision_no="深市监罚〔2026〕78号").model_dump(
            mode="json", exclude_none=True)}
        # The generator leaves out the raw-body push (KNOWN_GAPS); its own httpx client sends it.
        pushed = department.get_httpx_client().post("/v1/batches", content=json.dumps(line, ensure_ascii=False),
                                                    headers={"Content-Type": "application/x-ndjson"})
        assert pushed.status_code == 200, pushed.text
        batch = get_batch.sync(pushed.json()["id"], client=department)
        assert (batch.status.value, batch.lines, batch.accepted, batch.rejected) == ("completed", 1, 1, 0)
