"""The client carries its own copy of canonical JSON (it must install without the
server); both copies must give the same bytes, or a grant's payload_sha256 computed
by an executor would not match the server's."""

from __future__ import annotations

import inspect

import pytest
from hypothesis import given
from hypothesis import strategies as st

import airlock.canonical as server
import airlock_client.canonical as client

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_both_copies_give_the_same_bytes_and_digests(value):
    assert client.canonical_bytes(value) == server.canonical_bytes(value)
    assert client.payload_sha256(value) == server.payload_sha256(value)
    assert client.fingerprint(value) == server.fingerprint(value)


def test_both_copies_refuse_what_has_no_canonical_form():
    for bad in (float("nan"), {1: "x"}, "\ud800"):
        with pytest.raises(client.NotCanonical):
            client.canonical_bytes(bad)
        with pytest.raises(server.NotCanonical):
            server.canonical_bytes(bad)
    for bad in (1.5, 2**53, {1: 2}):
        with pytest.raises(client.NotCanonical):
            client.strict_bytes(bad)
        with pytest.raises(server.NotCanonical):
            server.strict_bytes(bad)


def test_it_pins_the_rfc_8785_example_digest():
    # Keys sorted by UTF-16 code units, ES6 numbers, minimal escapes (RFC 8785 §3.2.3).
    value = {"numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 1e-27], "b": "\u20ac$", "a": 1}
    assert client.canonical_bytes(value) == (
        b'{"a":1,"b":"\xe2\x82\xac$","numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27]}'
    )


def test_the_code_is_the_same_apart_from_the_module_docstring():
    def body(module):
        source = inspect.getsource(module)
        return source[source.index('"""', 3) + 3 :]

    assert body(client) == body(server)
