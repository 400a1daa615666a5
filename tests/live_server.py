"""The real service as its own process on 127.0.0.1, on the test database."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests import live_traffic


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def live_server(database_url: str, data_dir: Path, **settings: str) -> Iterator[str]:
    """Serve the app with uvicorn (settings as REGISTRY_* variables); yields the base URL. What it
    answers the public and logs is scanned at the end of the session (tests/live_traffic.py)."""
    port = free_port()
    env = os.environ | {"REGISTRY_DATABASE_URL": database_url, "REGISTRY_DATA_DIR": str(data_dir),
                        "REGISTRY_ACCESS_LOG": "false", "REGISTRY_LOG_LEVEL": "warning",
                        "REGISTRY_WEBHOOK_WORKER_IN_PROCESS": "false"} | settings
    # To a file, not a pipe nobody reads: a server that logs more than the pipe holds would block.
    with live_traffic.log_file("live-server") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", live_traffic.RECORDED_APP, "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning"],
            env=env, cwd=Path(__file__).resolve().parent.parent, stdout=log, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail(f"server did not start: {Path(log.name).read_text(errors='replace')[-4000:]}")
        yield base
    finally:
        stop(process)


def stop(process: subprocess.Popen, *, wait: float = 10) -> None:
    """A server the test started, ended: asked first, then killed if it does not stop in time."""
    process.terminate()
    try:
        process.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
