"""``python -m api.export_openapi`` writes openapi/openapi.json from the app (checked in;
tests/test_openapi.py fails when it differs from what the app serves)."""

import json
import sys
from pathlib import Path

from api.app import create_app
from api.settings import Settings

SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


def render() -> str:
    # The spec does not depend on the database; an in-memory URL keeps the export side-effect free.
    app = create_app(Settings(database_url="sqlite://", access_log=False))
    return json.dumps(app.openapi(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def main() -> None:
    SPEC_PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {SPEC_PATH}", file=sys.stderr)


if __name__ == "__main__":
    main()
