"""How every bench reports: a heading with the machine, date and commit, a Markdown table,
printed and appended to bench/RESULTS.md."""

import os
import platform
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine() -> str:
    return (f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit()}, {platform.machine()}, "
            f"{os.cpu_count()} cores, Python {platform.python_version()}")


def publish(title: str, notes: Sequence[str], header: Sequence[str], rows: Sequence[Sequence[str]],
            after: Sequence[str] = ()) -> None:
    """Print the table and append it to bench/RESULTS.md."""
    lines = [f"\n### {title}", machine(), "", *notes, "", "| " + " | ".join(header) + " |",
             "|" + "---|" * len(header), *("| " + " | ".join(row) + " |" for row in rows), *after, ""]
    text = "\n".join(lines)
    print(text)
    with open(ROOT / "bench" / "RESULTS.md", "a", encoding="utf-8") as results:
        results.write(text)
