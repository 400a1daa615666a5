"""`credit-registry demo-data` loads a realistic dataset the public API serves."""

from collections import Counter

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from typer.testing import CliRunner

from api.app import create_app
from api.settings import Settings, get_settings
from cli.main import cli
from db.session import open_database
from db.tables import Organization, Record
from service import codes


@pytest.fixture
def settings_env(tmp_path, monkeypatch):
    monkeypatch.setenv("REGISTRY_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def test_demo_data_loads_every_kind_with_valid_codes(settings_env: Settings) -> None:
    result = CliRunner().invoke(cli, ["demo-data", "--organizations", "200"])
    assert result.exit_code == 0, result.output
    assert "loaded 204 organizations" in result.output

    database = open_database(settings_env.database_url)
    with Session(database.reader) as session:
        organizations = session.exec(select(Organization)).all()
        rows = session.exec(select(Record)).all()
    database.dispose()
    assert len(organizations) == 204
    assert all(codes.uscc_check_digit_valid(o.uscc) for o in organizations)
    assert len({o.region_code[:2] for o in organizations}) >= 10  # provinces
    kinds = Counter(r.kind for r in rows)
    assert set(kinds) == {"rating", "violation", "disclosure", "list_entry", "inspection"}
    assert {r.details["result"] for r in rows if r.kind == "inspection"} == {"pass", "fail"}
    assert {r.severity for r in rows if r.kind == "violation"} == {"minor", "general", "serious"}
    assert {r.list_name for r in rows if r.kind == "list_entry"} == {"red", "black"}

    again = CliRunner().invoke(cli, ["demo-data", "--organizations", "200", "--if-empty"])
    assert "nothing loaded" in again.output

    app = create_app(Settings(database_url=settings_env.database_url, data_dir=settings_env.data_dir,
                              access_log=False))
    with TestClient(app) as client:
        typed = " ".join(["9144", "0300", "7084", "6113", "6t"])  # Tencent, lower case with spaces
        response = client.get(f"/v1/public/organizations/{typed}")
    assert response.status_code == 200
    assert response.json()["code"] == "91440300708461136T"
    assert response.json()["name"] == "深圳市腾讯计算机系统有限公司"
