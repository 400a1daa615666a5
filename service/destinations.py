"""Where webhooks may be sent: never to loopback, private, link-local, multicast, reserved or
cloud-metadata addresses (SSRF), however the address is written (decimal, hex, a DNS name that
resolves there). Checked when an endpoint is saved and again before every attempt, since DNS can
change in between. ``allowed_hosts`` (off by default) lets tests use a receiver on 127.0.0.1.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from service.errors import InvalidRecord


class BlockedDestination(InvalidRecord):
    title = "Destination not allowed"


def check(url: str, *, allowed_hosts: frozenset[str] = frozenset()) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise BlockedDestination("a webhook URL is http(s)://host/...", field="url")
    if parts.username or parts.password:
        raise BlockedDestination("a webhook URL cannot carry credentials; use the signature", field="url")
    host = parts.hostname
    if host in allowed_hosts:
        return
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80),
                                   proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, ValueError):
        raise BlockedDestination(f"the host {host!r} does not resolve", field="url") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        address = getattr(address, "ipv4_mapped", None) or address
        # is_global alone lets multicast through (Python counts 224.0.0.0/4 as global).
        if not address.is_global or address.is_multicast or address.is_reserved:
            raise BlockedDestination(f"{host} resolves to {address}, which is not a public address", field="url")
