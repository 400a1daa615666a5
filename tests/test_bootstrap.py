"""A fresh install bootstrapped from the CLI alone: department, clients, token, first records."""

import json

from typer.testing import CliRunner

from cli.main import cli
from tests import factories as f


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_fresh_install_from_the_cli(cli_env, client) -> None:
    run("create-department", "REGISTRY", "--name", "省信用平台管理员", "--kind", "other", "--region", "440000")
    run("create-department", "SZAMR", "--name", "深圳市市场监督管理局", "--region", "440300")
    admin = json.loads(run("create-client", "REGISTRY", "--scope", "admin", "--json"))
    writer = json.loads(run("create-client", "SZAMR", "--scope", "records:read", "--scope", "records:write",
                            "--scope", "lists:write", "--json"))
    assert writer["client_secret"].startswith("crs_")

    token = client.post("/v1/auth/token", data={"grant_type": "client_credentials", **writer}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.put(f"/v1/organizations/{f.HUAWEI}", headers=headers, json={"name": "华为技术有限公司"}).status_code == 201
    violation = client.post(f"/v1/organizations/{f.HUAWEI}/violations", headers=headers,
                            json=f.violation().model_dump(mode="json", exclude_none=True))
    listed = client.post("/v1/list-entries", headers=headers,
                         json=f.list_entry("black").model_dump(mode="json", exclude_none=True) | {"code": f.HUAWEI})
    assert (violation.status_code, listed.status_code) == (201, 201)
    assert client.get(f"/v1/public/organizations/{f.HUAWEI}").json()["list_status"] == "black"

    admin_token = client.post("/v1/auth/token", data={"grant_type": "client_credentials", **admin}).json()
    entries = client.get("/v1/admin/audit", headers={"Authorization": f"Bearer {admin_token['access_token']}"}).json()
    # The audit call itself is committed with its answer, so it is not in that answer.
    assert [(e["action"], e["department"]) for e in reversed(entries["items"])] == [
        ("issue_token", "SZAMR"), ("put_organization", "SZAMR"), ("create_violation", "SZAMR"),
        ("create_list_entry", "SZAMR"), ("issue_token", "REGISTRY")]


def test_cli_errors_are_sentences(cli_env) -> None:
    result = CliRunner().invoke(cli, ["create-client", "NOPE", "--scope", "admin"])
    assert result.exit_code == 2
    assert "department 'NOPE' is not registered" in result.output
