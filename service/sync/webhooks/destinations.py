"""Where webhooks may be sent: never to loopback, private, link-local, multicast, reserved or
cloud-metadata addresses (SSRF), however the address is written (decimal, hex, a DNS name that
resolves there). ``allowed_hosts`` (off by default) lets tests use a receiver on 127.0.0.1.

Checked twice: when an endpoint is saved (quick feedback) and, the check that counts, inside the
HTTP client's connect: the name is resolved once, every address vetted, and the socket opened to
a vetted address. There is no second lookup for a rebinding DNS server to answer differently.
TLS still verifies the certificate against the host name of the URL.

The same place enforces a whole-attempt deadline: every connect, read and write gets only the
time left, so a receiver that trickles a byte at a time cannot hold a worker past it.
"""

import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from service.errors import InvalidRecord


class BlockedDestination(InvalidRecord):
    title = "Destination not allowed"


def check(url: str, *, allowed_hosts: frozenset[str] = frozenset()) -> None:
    """Refuse a URL that is malformed, carries credentials or resolves to a non-public address."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise BlockedDestination("a webhook URL is http(s)://host/...", field="url")
    if parts.username or parts.password:
        raise BlockedDestination("a webhook URL cannot carry credentials; use the signature", field="url")
    vetted_address(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80),
                   allowed_hosts=allowed_hosts)


_resolver = ThreadPoolExecutor(max_workers=8, thread_name_prefix="resolve")
# IPv6 ranges that carry an IPv4 address or are obsolete site-local space: never a public receiver.
_TUNNELS = (ipaddress.ip_network("2002::/16"), ipaddress.ip_network("2001::/32"), ipaddress.ip_network("fec0::/10"))


def _resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, by getaddrinfo within the attempt's time: the C resolver
    has no timeout of its own (glibc can wait 30 s on a silent name server), so it runs aside and
    the attempt stops waiting for it."""
    left = _time_left(None, httpcore.ConnectTimeout)
    if left is None:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    else:
        try:
            infos = _resolver.submit(socket.getaddrinfo, host, port, proto=socket.IPPROTO_TCP).result(timeout=left)
        except FutureTimeout:
            raise httpcore.ConnectTimeout(f"resolving {host} took longer than the attempt may") from None
    # An IP socket address starts with the host (an int only where Python was built without IPv6);
    # an IPv6 one may end in its scope (fe80::1%eth0), which is no part of the address.
    return [str(info[4][0]).split("%")[0] for info in infos]


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    address = getattr(address, "ipv4_mapped", None) or address
    if isinstance(address, ipaddress.IPv6Address) and any(address in net for net in _TUNNELS):
        return False
    # is_global alone lets multicast through (Python counts 224.0.0.0/4 as global).
    return address.is_global and not address.is_multicast and not address.is_reserved


def vetted_address(host: str, port: int, *, allowed_hosts: frozenset[str]) -> str:
    """The address to connect to for ``host``; refuses the host if any address it resolves to is
    not public (a name that also points inside is not one to trust)."""
    try:
        addresses = _resolve(host, port)
    except (socket.gaierror, UnicodeError, ValueError):
        raise BlockedDestination(f"the host {host!r} does not resolve", field="url") from None
    if host not in allowed_hosts:
        for text in addresses:
            if not _public(ipaddress.ip_address(text)):
                # Never the address itself: the answer would tell a caller what an internal
                # name resolves to, a map of the network drawn one registration at a time.
                raise BlockedDestination(f"{host} is not a public address", field="url")
    return addresses[0]


_deadline = threading.local()


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Everything the guarded client does in this thread must be over ``seconds`` from now."""
    _deadline.at = time.monotonic() + seconds
    try:
        yield
    finally:
        _deadline.at = None


def _time_left(timeout: float | None, timed_out: type[Exception]) -> float | None:
    at: float | None = getattr(_deadline, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise timed_out("the attempt's time is up")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _time_left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _time_left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname,
                                                      _time_left(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _GuardedBackend(httpcore.NetworkBackend):
    def __init__(self, allowed_hosts: frozenset[str]) -> None:
        self._inner = httpcore.SyncBackend()
        self._allowed_hosts = allowed_hosts

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        address = vetted_address(host, port, allowed_hosts=self._allowed_hosts)
        return _DeadlineStream(self._inner.connect_tcp(address, port, _time_left(timeout, httpcore.ConnectTimeout),
                                                       local_address, socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Any = None) -> httpcore.NetworkStream:
        raise BlockedDestination("webhooks are sent over TCP only", field="url")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class _GuardedTransport(httpx.HTTPTransport):
    def __init__(self, allowed_hosts: frozenset[str], limits: httpx.Limits) -> None:
        super().__init__(trust_env=False, limits=limits)
        # The same pool httpx builds, with our network backend (httpx has no argument for it).
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections, max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry, network_backend=_GuardedBackend(allowed_hosts))


def guarded_client(*, allowed_hosts: frozenset[str], timeout: httpx.Timeout, user_agent: str) -> httpx.Client:
    """An HTTP client that connects only to public addresses (or ``allowed_hosts``), follows no
    redirects (a 3xx is an answer, never a hop elsewhere) and takes no proxy from the environment."""
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
    return httpx.Client(transport=_GuardedTransport(allowed_hosts, limits), timeout=timeout, follow_redirects=False,
                        trust_env=False, headers={"user-agent": user_agent})
