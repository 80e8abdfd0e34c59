"""Canonical JSON has one implementation, in the client package; the server's
``airlock.canonical`` is that implementation, so a grant's payload_sha256 and an
executor's recomputation cannot drift apart."""

from __future__ import annotations

import pytest

import airlock.canonical as server
import airlock_client.canonical as client


def test_the_server_reuses_the_clients_implementation():
    for name in server.__all__:
        assert getattr(server, name) is getattr(client, name), name


def test_it_pins_the_rfc_8785_example_bytes():
    # Keys sorted by UTF-16 code units, ES6 numbers, minimal escapes (RFC 8785 §3.2.3).
    value = {"numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 1e-27], "b": "\u20ac$", "a": 1}
    assert client.canonical_bytes(value) == (
        b'{"a":1,"b":"\xe2\x82\xac$","numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27]}'
    )
    assert client.payload_sha256({"b": 1, "a": [1, 2]}) == client.payload_sha256(
        {"a": [1, 2], "b": 1}
    )


def test_it_refuses_what_has_no_canonical_form():
    for bad in (float("nan"), {1: "x"}, "\ud800"):
        with pytest.raises(client.NotCanonical):
            client.canonical_bytes(bad)
    for bad in (1.5, 2**53, {1: 2}):
        with pytest.raises(client.NotCanonical):
            client.strict_bytes(bad)
