"""``screen``: the masked copy keeps the payload's shape; findings never hold values;
the engine never reaches the network."""

from __future__ import annotations

import json

import pytest
import tldextract

from sanitization import engine as engine_module
from sanitization.screening import needs_screening, screen

NESTED = {
    "rows": [
        {"id": 1, "email": "ana.lopez@example.com", "score": 0.5, "note": None},
        {"id": 2, "email": "ana.lopez@example.com", "tags": ["vip", "ünïcødé ✓"], "ok": True},
    ],
    "matrix": [[1, 2], [3, [4, None]]],
    "owner": {"name": "Zoë Ångström", "card": 4111111111111111},
    "credentials": {"password": "hunter2!", "api_key": {"primary": "k-1", "ttl": 300}},
    "empty": {},
    "destination": "s3://team-bucket/exports/x.csv",
}


def shape(value):
    if isinstance(value, dict):
        return {key: shape(child) for key, child in value.items()}
    if isinstance(value, list):
        return [shape(child) for child in value]
    return type(value).__name__


def test_a_nested_payload_keeps_its_shape():
    result = screen(NESTED)
    assert result.complete
    masked = result.masked
    assert masked["rows"][0]["email"] == "<EMAIL_ADDRESS>"
    assert masked["rows"][1]["email"] == "<EMAIL_ADDRESS>"
    assert masked["rows"][1]["tags"] == ["vip", "ünïcødé ✓"]
    assert masked["rows"][0]["score"] == 0.5
    assert masked["rows"][0]["note"] is None
    assert masked["rows"][1]["ok"] is True
    assert masked["matrix"] == [[1, 2], [3, [4, None]]]
    assert masked["owner"]["name"] == "<PERSON>"
    assert masked["owner"]["card"] == "<CREDIT_CARD>"  # a number became its mask
    assert masked["credentials"] == {
        "password": "<SECRET>",
        "api_key": {"primary": "<SECRET>", "ttl": "<SECRET>"},
    }
    assert masked["empty"] == {}
    assert masked["destination"] == NESTED["destination"]
    # Same keys, same list lengths, same places for numbers, nulls and booleans.
    expected = shape(NESTED)
    expected["owner"]["card"] = "str"
    expected["credentials"]["api_key"]["ttl"] = "str"
    assert shape(masked) == expected


def test_findings_name_path_entity_score_and_offsets_never_the_value():
    result = screen(NESTED)
    by_path = {(f["path"], f["entity"]): f for f in result.findings}
    email = by_path[("$.rows[0].email", "EMAIL_ADDRESS")]
    assert (email["start"], email["end"]) == (0, len("ana.lopez@example.com"))
    assert 0 < email["score"] <= 1
    assert ("$.rows[1].email", "EMAIL_ADDRESS") in by_path  # a repeated string, both places
    assert ("$.credentials.password", "SECRET") in by_path
    assert set(result.findings[0]) <= {"path", "entity", "score", "start", "end", "key"}
    text = json.dumps(result.findings)
    for raw in ("ana.lopez", "hunter2", "Zoë", "4111111111111111"):
        assert raw not in text


def test_identical_strings_are_analyzed_once():
    result = screen({"a": ["same text from bob@example.com"] * 50})
    assert result.stats["texts"] == 1  # the key "a" is too short; one distinct string
    assert len(result.findings) == 50


def test_a_key_that_is_personal_data_is_masked_and_reported_as_a_key():
    result = screen({"ana.lopez@example.com": {"visits": 3}})
    assert result.masked == {"<EMAIL_ADDRESS>": {"visits": 3}}
    assert result.findings[0]["key"] is True


def test_paths_quote_keys_that_are_not_identifiers():
    result = screen({"contact list": ["x", "mail jo@example.com"]})
    assert result.findings[0]["path"] == "$['contact list'][1]"


def test_over_the_text_limit_nothing_is_masked_and_it_says_why():
    result = screen({"blob": "x" * 5000}, max_chars=1000)
    assert not result.complete
    assert result.masked is None
    assert result.findings == []
    assert "over 1000" in result.reason


def test_past_the_time_budget_screening_stops():
    payload = {f"k{i}": f"a different sentence about Paris number {i}" for i in range(200)}
    result = screen(payload, budget_seconds=0)
    assert not result.complete
    assert result.masked is None
    assert "within 0 seconds" in result.reason


@pytest.mark.parametrize(
    ("payload", "needed"),
    [
        (None, False),
        ({"n": 3}, False),
        ({"replicas": 3}, True),  # a key is text too
        ([1, 2.5, True], False),
        ({"a": "ok"}, False),
        ({"query": "select 1"}, True),
        ({"pw": 1, "password": 1}, True),
        (41111111111, True),
    ],
)
def test_only_payloads_with_text_need_screening(payload, needed):
    assert needs_screening(payload) is needed


def test_the_engine_loads_and_screens_without_touching_the_network(no_outside_network):
    engine_module.reset_engine()
    try:
        result = screen({"to": "someone@mail.example.co.uk", "url": "see https://a.example.com"})
    finally:
        engine_module.reset_engine()
    assert result.findings[0]["entity"] == "EMAIL_ADDRESS"
    assert no_outside_network == []


def test_tldextract_left_alone_would_fetch_the_suffix_list(no_outside_network):
    # The guard above is not vacuous: tldextract's default does reach out.
    tldextract.TLDExtract(cache_dir=None)("someone@mail.example.co.uk")
    assert no_outside_network != []


def test_a_missing_model_is_a_clear_startup_error_not_a_download(settings, no_outside_network):
    from django.core.exceptions import ImproperlyConfigured

    from sanitization.checks import screening_model_installed

    settings.SCREENING = {**settings.SCREENING, "NLP_MODEL": "en_core_web_lg"}
    errors = screening_model_installed(None)
    assert errors
    assert "never downloads" in errors[0].msg
    with pytest.raises(ImproperlyConfigured, match="not an installed spaCy pipeline"):
        engine_module.build_engine()
    assert no_outside_network == []


def test_patterns_only_mode_needs_no_model():
    from django.conf import settings

    blank = engine_module.build_engine({**settings.SCREENING, "NLP_MODEL": "none"})
    result = screen({"a": "mail me at x.y@example.com, I am Margaret Thompson"}, engine=blank)
    assert {f["entity"] for f in result.findings} == {"EMAIL_ADDRESS"}


# Built from parts, so this file holds no string a secret scanner would flag.
KEY_SECRETS = ["AKIA" + "IOSFODNN7" + "EXAMPLE", "5555555555554444", "probe.leak@acme-corp.io"]


def resolve(value, path):
    """The member or item ``path`` names in ``value`` (the paths ``screen`` writes)."""
    import re

    assert path.startswith("$")
    rest = path[1:]
    step = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\['((?:[^'\\]|\\.)*)'\]|\[(\d+)\]")
    while rest:
        match = step.match(rest)
        assert match, f"unparseable path {path!r} at {rest!r}"
        name, quoted, index = match.groups()
        if index is not None:
            value = value[int(index)]
        else:
            key = name if name is not None else re.sub(r"\\(.)", r"\1", quoted)
            assert key in value, f"{path!r}: no member {key!r} in the masked copy"
            value = value[key]
        rest = rest[match.end() :]
    return value


@pytest.mark.parametrize("secret", KEY_SECRETS)
def test_a_finding_path_never_carries_a_masked_key(secret):
    payload = {
        secret: 1,
        "nested": {secret: {"visits": 3}, "list": [{secret: "x"}]},
        "password": {secret: "hunter2!"},  # keys under a secret-named key are read too
    }
    result = screen(payload)
    assert result.complete
    shown = json.dumps(result.masked)
    reported = json.dumps(result.findings)
    assert secret not in shown
    assert secret not in reported
    for finding in result.findings:
        resolve(result.masked, finding["path"])  # every path names a member that is shown
    keys = [f for f in result.findings if f.get("key")]
    assert len(keys) == 4
    assert all(f["path"].endswith(">']") for f in keys)  # the member as shown: its mask


def test_keys_masked_alike_stay_apart_and_their_paths_resolve():
    result = screen({"a@example.com": 1, "b@example.com": 2})
    assert result.masked == {"<EMAIL_ADDRESS>": 1, "<EMAIL_ADDRESS>#": 2}
    assert [f["path"] for f in result.findings] == ["$['<EMAIL_ADDRESS>']", "$['<EMAIL_ADDRESS>#']"]
