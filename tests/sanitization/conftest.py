"""Screening tests run with the network cut: any connection that leaves the machine
raises, and every attempt is recorded for the tests that count them."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest


class OutsideConnection(OSError):
    pass


def _is_local_address(address: Any) -> bool:
    if isinstance(address, str | bytes):  # a unix socket path
        return True
    return _is_local_host(address[0])


def _is_local_host(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def no_outside_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    attempts: list[Any] = []
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> Any:
        if not _is_local_address(address):
            attempts.append(address)
            raise OutsideConnection(f"test forbids a connection to {address!r}")
        return real_connect(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not _is_local_host(host):
            attempts.append(host)
            raise OutsideConnection(f"test forbids resolving {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return attempts
