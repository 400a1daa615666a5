"""Real HTTP receivers on 127.0.0.1 for the webhook tests, and the fixtures that subscribe them."""

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlmodel import select

from db.session import transaction
from db.tables import WebhookDelivery
from service.sync.webhooks import delivery
from service.sync.webhooks.delivery import DeliveryPolicy
from tests import factories as f

HUAWEI = f.HUAWEI
FAST = DeliveryPolicy(schedule=(0.05, 0.05), jitter=0.0, attempt_seconds=2.0, lease_seconds=30,
                      allowed_hosts=frozenset({"127.0.0.1"}))


class Receiver:
    """An HTTP server on 127.0.0.1 answering with the statuses it is given, in turn. It counts
    requests in flight, and can hold the first ``hold`` requests until ``release`` is set."""

    def __init__(self, statuses=(200,), *, headers=None, delay: float = 0.0, hold: int = 0) -> None:
        self.statuses, self.extra_headers, self.delay, self.hold = list(statuses), headers or {}, delay, hold
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.release = threading.Event()
        self.in_flight = self.max_in_flight = 0
        lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with lock:
                    receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                    held = len(receiver.received) <= receiver.hold
                    receiver.in_flight += 1
                    receiver.max_in_flight = max(receiver.max_in_flight, receiver.in_flight)
                try:
                    if held:
                        receiver.release.wait(30)
                    time.sleep(receiver.delay)
                    status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                    self.send_response(status)
                    for key, value in receiver.extra_headers.items():
                        self.send_header(key, value)
                    self.send_header("content-length", "0")
                    self.end_headers()
                finally:
                    with lock:
                        receiver.in_flight -= 1

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, seconds: float = 10.0) -> None:
        deadline = time.monotonic() + seconds
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"{len(self.received)} of {count} requests arrived"
            time.sleep(0.02)

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class TrickleReceiver:
    """Answers one byte of a status line at a time, slowly: each read is quick, the whole is not."""

    def __init__(self, pause: float) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/hooks"
        self.stop = threading.Event()

        def serve() -> None:
            self.listener.settimeout(0.2)
            while not self.stop.is_set():
                try:
                    conn, _ = self.listener.accept()
                except OSError:
                    continue
                with conn:
                    conn.recv(65536)
                    for byte in b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n":
                        if self.stop.wait(pause):
                            break
                        try:
                            conn.sendall(bytes([byte]))
                        except OSError:
                            break

        threading.Thread(target=serve, daemon=True).start()

    def close(self) -> None:
        self.stop.set()
        self.listener.close()


@pytest.fixture
def receivers():
    made: list = []
    yield lambda *a, kind=Receiver, **k: made.append(kind(*a, **k)) or made[-1]
    for receiver in made:
        receiver.close()


@pytest.fixture
def hooked(client, parties, client_for):
    """Department B subscribes; department A registers Huawei. Returns a function that creates an
    endpoint for a receiver and gives back (endpoint id, secret, B's headers)."""
    client.put(f"/v1/organizations/{HUAWEI}", headers=parties["a"].headers, json={"name": "华为技术有限公司"})
    headers = client_for("SZTAX", "webhooks:manage")

    def subscribe(url: str, **body) -> tuple[str, str, dict]:
        response = client.post("/v1/webhooks/endpoints", headers=headers, json={"url": url} | body)
        assert response.status_code == 201, response.text
        return response.json()["id"], response.json()["secret"], headers

    return subscribe


def push_violation(client, parties, **overrides):
    body = f.violation().model_dump(mode="json", exclude_none=True) | overrides
    response = client.post(f"/v1/organizations/{HUAWEI}/violations", headers=parties["a"].headers, json=body)
    assert response.status_code == 201
    return response.json()


def waiting_deliveries(db) -> list[WebhookDelivery]:
    with transaction(db) as session:
        return list(session.exec(select(WebhookDelivery).where(
            WebhookDelivery.status.in_(("pending", "sending")))).all())


def run_until_idle(db, clock, policy=FAST, owner="test-worker", rounds=50) -> None:
    """Worker rounds until nothing is waiting; the clock moves on while it waits for retries."""
    with delivery.http_client(policy) as http:
        for _ in range(rounds):
            if not delivery.deliver_due(lambda: transaction(db), http, owner=owner, policy=policy, clock=clock):
                if not waiting_deliveries(db):
                    return
                clock.advance(seconds=0.1)
