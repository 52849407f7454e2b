"""Where a hook may send: http(s) to addresses outside our own networks.

A hook's URL is the creator's choice, and our workers send to it from inside the deployment: a URL
naming a loopback, private, link-local, multicast or reserved address would let anyone who may
subscribe reach services that are not meant to be reachable (the metadata service of a cloud, an
admin port). Such URLs are refused when the hook is made, and checked again on every connection:
DNS may answer differently later, so the address the socket actually connected to is what counts.
Hosts listed in WEBHOOK_ALLOWED_HOSTS are exempt (a receiver inside the deployment, the tests').
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class DestinationRefused(Exception):
    """The destination is not one a hook may send to; the message says why."""


def host_allowed(host: str) -> bool:
    return host.lower().rstrip(".") in {name.lower() for name in settings.WEBHOOK_ALLOWED_HOSTS}


def is_internal(address: str) -> bool:
    """Loopback, private, link-local, multicast, reserved, unspecified or otherwise not global."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 scope (fe80::1%eth0) is no part of it
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast or ip.is_reserved


def destination_problem(url: str) -> str | None:
    """Why a hook may not send to `url`, or None when it may. Resolves the host name."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        return f"Not a valid URL: {exc}."
    if parts.scheme not in ("http", "https"):
        return "Only http and https URLs are accepted."
    if not host:
        return "The URL has no host."
    if host_allowed(host):
        return None
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)}
    except (OSError, UnicodeError):
        return f"The host {host} does not resolve."
    internal = sorted(address for address in addresses if is_internal(address))
    if internal:
        return f"The host {host} resolves to an internal address ({internal[0]}); hooks send only to public ones."
    return None


def _check_peer(host: str, sock: socket.socket) -> None:
    if host_allowed(host):
        return
    address = sock.getpeername()[0]
    if is_internal(address):
        sock.close()
        raise DestinationRefused(f"The host {host} now resolves to an internal address ({address}).")


class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _check_peer(self.host, sock)
        return sock


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _check_peer(self.host, sock)
        return sock


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


def guarded_session() -> requests.Session:
    """A session that connects only where a hook may send: no proxies from the environment (the check
    would then see the proxy's address), no redirects followed by the caller (`allow_redirects=False`)."""
    session = requests.Session()
    session.trust_env = False
    adapter = _GuardedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
