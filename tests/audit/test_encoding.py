"""audit.encoding writes the bytes airlock.canonical.strict_bytes (RFC 8785 in pure
Python) writes, or refuses what it refuses, on generated values: the fast path is
only a speed-up if nobody can tell it from the slow one."""

from __future__ import annotations

import enum

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airlock.canonical import MAX_SAFE_INTEGER, NotCanonical, strict_bytes
from audit import encoding
from audit import verify as chain

# Every character class JCS treats specially: controls, quotes and backslashes, DEL,
# U+2028/9, the U+E000-U+FFFF block whose UTF-16 order differs from its code point
# order against characters above U+FFFF, those characters, and lone surrogates.
tricky = st.sampled_from(
    [
        *("\x00", "\x08", "\t", "\n", "\x0c", "\r", "\x1f", '"', "\\", "/", "\x7f", "\u2028"),
        "\u2029",
        "\ue000",
        "\uffff",
        "\U0001f600",
        "\U00010000",
        "\ud800",
        "\udfff",
        "é",
    ]
)
text = st.text(st.characters() | tricky, max_size=8) | st.text(max_size=3)
# ASCII keys take the fast path, so most keys are ASCII (with the ASCII controls).
keys = st.text(st.characters(max_codepoint=127), max_size=6) | text
integers = st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER) | st.sampled_from(
    [MAX_SAFE_INTEGER + 1, -MAX_SAFE_INTEGER - 1, 2**64, -(2**63) - 1, 0, -1]
)
scalars = st.none() | st.booleans() | integers | text | st.floats(allow_nan=True)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(keys, children, max_size=5)
        | st.tuples(children, children)
    ),
    max_leaves=20,
)


def _slow(value: object) -> bytes | type[NotCanonical]:
    try:
        return strict_bytes(value)
    except NotCanonical:
        return NotCanonical


def _fast(value: object) -> bytes | type[NotCanonical]:
    try:
        return encoding.data_bytes(value)
    except NotCanonical:
        return NotCanonical


@settings(max_examples=1000, deadline=None)
@given(values)
def test_data_bytes_equal_rfc8785_or_refuse_alike(value):
    assert _fast(value) == _slow(value)


@settings(max_examples=500, deadline=None)
@given(
    st.integers(0, MAX_SAFE_INTEGER + 2),
    text,
    text,
    text,
    text,
    st.dictionaries(keys, values, max_size=5),
)
def test_event_canonical_equals_the_verifiers_from_rfc8785_data(
    seq, at, event_type, actor, target, data
):
    try:
        expected: object = chain.event_canonical(
            seq=seq,
            at=at,
            event_type=event_type,
            actor=actor,
            target=target,
            data_bytes=strict_bytes(data),
        )
    except (NotCanonical, UnicodeEncodeError):
        expected = "refused"
    try:
        got: object = encoding.event_canonical(
            seq=seq, at=at, event_type=event_type, actor=actor, target=target, data=data
        )
    except (NotCanonical, UnicodeEncodeError):
        got = "refused"
    assert got == expected


class Level(enum.IntEnum):
    HIGH = 2


class Name(str):
    pass


@pytest.mark.parametrize(
    "value",
    [
        # Where JCS's UTF-16 order and code point order part: U+E000 sorts after a
        # surrogate pair in UTF-16, before it by code point.
        {"\ue000": 1, "\U0001f600": 2, "a": 3},
        {"level": Level.HIGH},
        {Name("b"): 1, "a": Name("x")},
        {"deep": [[[[[[[[[[]]]]]]]]]]},
        {"n": MAX_SAFE_INTEGER, "m": -MAX_SAFE_INTEGER},
        {"s": '\x00\x1f\x7f\u2028"\\\U0001f600'},
        (1, "two"),
    ],
)
def test_the_cases_the_fast_path_hands_on_or_must_spell_alike(value):
    assert encoding.data_bytes(value) == strict_bytes(value)


def test_nesting_deeper_than_orjson_takes_goes_the_slow_way():
    deep: object = 1
    for _ in range(300):
        deep = [deep]
    assert encoding.data_bytes(deep) == strict_bytes(deep)


@pytest.mark.parametrize("bad", [1.5, {"x": float("nan")}, {1: "a"}, 2**60, "\ud800", object()])
def test_it_refuses_what_strict_bytes_refuses(bad):
    with pytest.raises(NotCanonical):
        encoding.data_bytes(bad)


def test_the_generated_values_do_reach_the_fast_path():
    # The equality above is only worth something if orjson wrote many of the values.
    seen: list[bool] = []

    @settings(max_examples=300, deadline=None, database=None)
    @given(values)
    def probe(value):
        seen.append(isinstance(value, (dict, list)) and encoding.plain(value))

    probe()
    assert sum(seen) > 30
