"""Every recognizer on text that holds its secret, and on look-alikes that do not."""

from __future__ import annotations

import pytest

from sanitization.recognizers import SecretRecognizer, is_secret_key
from sanitization.screening import screen

# Built from parts, so this file holds no string a secret scanner would flag.
AWS_ID = "AKIA" + "IOSFODNN7" + "EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"
GITHUB = "ghp_" + "R9aQx2Lm4Vt7Kp1Zs8Yw3Nc6Bd0Fg5Hj2EkQ"
GITHUB_FINE = "github_pat_" + "11ABCDEFG0" + "a1B2c3D4e5F6g7H8i9J0" * 3 + "kLmNoPqRsTuV"
GITLAB = "glpat-" + "Xy7bQ2mN9pL4kR8tV3wZ"
SLACK = "xoxb-" + "123456789012-1234567890123-" + "AbCdEfGhIjKlMnOpQrStUvWx"
STRIPE = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
GOOGLE = "AIza" + "SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
PEM = (
    "-----BEGIN RSA "
    + "PRIVATE KEY-----\nMIIEowIBAAKCAQEA7v3Q\nq9Zp\n-----END RSA PRIVATE KEY-----"
)
ENTROPY = "q8Zr3LmV7xT2pN9kW4sY6bH1cJ5dF0gA"

POSITIVE = [
    ("AWS_ACCESS_KEY", f"aws_access_key_id {AWS_ID}", AWS_ID),
    ("AWS_SECRET_KEY", f"aws_secret_access_key = {AWS_SECRET}", AWS_SECRET),
    ("GITHUB_TOKEN", f"clone with {GITHUB} please", GITHUB),
    ("GITHUB_TOKEN", f"token {GITHUB_FINE}", GITHUB_FINE),
    ("GITLAB_TOKEN", f"CI uses {GITLAB}", GITLAB),
    ("SLACK_TOKEN", f"bot {SLACK}", SLACK),
    ("STRIPE_KEY", f"charge with {STRIPE}", STRIPE),
    ("GOOGLE_API_KEY", f"maps key {GOOGLE}", GOOGLE),
    ("JWT", f"Bearer {JWT}", JWT),
    ("PRIVATE_KEY", f"key:\n{PEM}\nend", PEM),
    ("PRIVATE_KEY", "-----BEGIN OPENSSH " + "PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA", None),
    ("CONNECTION_PASSWORD", "postgres://app:hunter2@db.internal:5432/prod", "hunter2"),
    ("CONNECTION_PASSWORD", "https://deploy:p%40ss@git.example.com/repo.git", "p%40ss"),
    ("CONNECTION_PASSWORD", "host=db user=app password=s3cr3tpw dbname=x", "s3cr3tpw"),
    ("SECRET_ASSIGNMENT", "export DB_PASSWORD=correct-horse-battery", "correct-horse-battery"),
    ("SECRET_ASSIGNMENT", '{"client_secret": "abcdef123456"}', "abcdef123456"),
    ("SECRET_ASSIGNMENT", "Authorization: Bearer opaque-token-value", "opaque-token-value"),
    ("HIGH_ENTROPY_SECRET", f"the value is {ENTROPY} ok", ENTROPY),
]

NEGATIVE = [
    ("AWS_ACCESS_KEY", "akiaiosfodnn7example is lower case"),
    ("AWS_SECRET_KEY", f"some other field: {AWS_SECRET[:20]}"),
    ("GITHUB_TOKEN", "ghp_short"),
    ("GITLAB_TOKEN", "glpat-short"),
    ("SLACK_TOKEN", "xoxb is a word here"),
    ("STRIPE_KEY", "sk_live_tooShort"),
    ("GOOGLE_API_KEY", "AIza too short"),
    ("JWT", "eyJub3QiOiJhIGp3dCJ9.eyJub3Q.invalid!!"),
    ("PRIVATE_KEY", "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqh\n-----END PUBLIC KEY-----"),
    ("CONNECTION_PASSWORD", "https://git.example.com/repo.git and user@example.com"),
    ("SECRET_ASSIGNMENT", "password: short"),
    ("SECRET_ASSIGNMENT", "the token bucket refills"),
    ("HIGH_ENTROPY_SECRET", "commit 4b825dc642cb6eb9a060e54bf8d69288fbee4904 deployed"),
    (
        "HIGH_ENTROPY_SECRET",
        "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ),
    ("HIGH_ENTROPY_SECRET", "path /var/lib/postgresql/data/base/pg_wal_archive_folder"),
    ("HIGH_ENTROPY_SECRET", "request id 3f2504e0-4f89-11d3-9a0c-0305e82c3301"),
]


@pytest.fixture(scope="module")
def recognizer() -> SecretRecognizer:
    return SecretRecognizer()


@pytest.mark.parametrize(("entity", "text", "secret"), POSITIVE)
def test_it_finds_each_secret(recognizer, entity, text, secret):
    found = [r for r in recognizer.analyze(text, [entity]) if r.entity_type == entity]
    assert found, f"{entity} not found in {text!r}"
    spans = {text[r.start : r.end] for r in found}
    if secret is not None:
        assert secret in spans  # exactly the secret: the host and user stay readable
    else:
        assert any(span.startswith("-----BEGIN") for span in spans)


@pytest.mark.parametrize(("entity", "text"), NEGATIVE)
def test_it_leaves_look_alikes_alone(recognizer, entity, text):
    assert [r for r in recognizer.analyze(text, [entity]) if r.entity_type == entity] == []


@pytest.mark.parametrize(
    "number",
    ["2221 0000 0000 0009", "2720-9900-0000-0007", "2223003122003222"],
)
def test_mastercard_two_series_cards_are_found(number):
    assert [f["entity"] for f in screen({"card": number}).findings] == ["CREDIT_CARD"]


@pytest.mark.parametrize(
    "number",
    [
        "2221 0000 0000 0001",  # fails the Luhn check
        "2800 0000 0000 0008",  # Luhn-valid, outside 2221-2720
        "2220 9999 9999 9991",  # Luhn-valid, just below
        "2721 0000 0000 0004",  # Luhn-valid, just above
    ],
)
def test_numbers_outside_the_two_series_or_failing_luhn_are_not_cards(number):
    assert "CREDIT_CARD" not in {f["entity"] for f in screen({"n": number}).findings}


@pytest.mark.parametrize(
    ("text", "entity"),
    [
        ("write to jane.doe@example.org today", "EMAIL_ADDRESS"),
        ("card 4111 1111 1111 1111", "CREDIT_CARD"),
        ("ssn 536-90-4399", "US_SSN"),
        ("IBAN DE89 3704 0044 0532 0130 00", "IBAN_CODE"),
        ("the ticket was filed by Margaret Thompson yesterday", "PERSON"),
    ],
)
def test_presidio_recognizers_still_run(text, entity):
    assert entity in {f["entity"] for f in screen({"text": text}).findings}


@pytest.mark.parametrize(
    "key", ["password", "db_password", "X-Api-Key", "githubToken", "Authorization", "client_secret"]
)
def test_secret_named_keys_are_recognized(key):
    assert is_secret_key(key)


@pytest.mark.parametrize("key", ["max_tokens", "token_count", "user", "keyspace", "description"])
def test_ordinary_keys_are_not_secret(key):
    assert not is_secret_key(key)
