"""``python -m api.export_openapi`` writes openapi/openapi.json from the app (checked in;
tests/test_openapi.py fails when it differs from what the app serves)."""

import json
import sys
from pathlib import Path

from api.app import create_app
from api.settings import Settings
from api.tokens import generate_key_pem

SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


def render() -> str:
    # The spec depends on neither the database nor the keys: in-memory ones keep the export free of
    # side effects (no file written under var/).
    kid, pem = generate_key_pem()
    app = create_app(Settings(database_url="sqlite://", access_log=False, signing_key=pem, signing_key_id=kid))
    return json.dumps(app.openapi(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def main() -> None:
    SPEC_PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {SPEC_PATH}", file=sys.stderr)


if __name__ == "__main__":
    main()
