"""A labeled, seeded corpus of credentials in context (and look-alikes that are not).

Shared by the sanitizer benchmarks. Every token is random; none is a real credential.
Each sample is ``(text, [(entity, start, end), ...])``.
"""

from __future__ import annotations

import base64
import json
import random
import string

ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"


def _rand(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _luhn_complete(rng: random.Random, prefix: str, length: int = 16) -> str:
    body = prefix + _rand(rng, string.digits, length - len(prefix) - 1)
    for check in string.digits:
        digits = [int(c) for c in body + check][::-1]
        doubled = [
            d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(digits)
        ]
        total = sum(doubled)
        if total % 10 == 0:
            return body + check
    raise AssertionError("unreachable")


def _uuid(rng: random.Random) -> str:
    hexdigits = "0123456789abcdef"
    return "-".join(_rand(rng, hexdigits, n) for n in (8, 4, 4, 4, 12))


def _jwt(rng: random.Random) -> str:
    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    header = part({"alg": "HS256", "typ": "JWT"})
    claims = part({"sub": _rand(rng, string.digits, 8), "name": "svc", "iat": 1700000000})
    return f"{header}.{claims}.{_rand(rng, ALNUM + '-_', 43)}"


def _pem(rng: random.Random) -> str:
    lines = "\n".join(_rand(rng, B64, 64) for _ in range(4))
    kind = rng.choice(["RSA ", "EC ", "OPENSSH ", ""])
    return f"-----BEGIN {kind}PRIVATE KEY-----\n{lines}\n-----END {kind}PRIVATE KEY-----"


GENERATORS = {
    "AWS_ACCESS_KEY": lambda r: "AKIA" + _rand(r, string.ascii_uppercase + string.digits, 16),
    "GITHUB_TOKEN": lambda r: r.choice(["ghp_", "gho_", "ghs_"]) + _rand(r, ALNUM, 36),
    "GITLAB_TOKEN": lambda r: "glpat-" + _rand(r, ALNUM + "-_", 20),
    "SLACK_TOKEN": lambda r: (
        f"xoxb-{_rand(r, string.digits, 12)}-{_rand(r, string.digits, 13)}-"
        + _rand(r, string.ascii_lowercase + string.digits, 24)
    ),
    "STRIPE_KEY": lambda r: r.choice(["sk_live_", "rk_live_"]) + _rand(r, ALNUM, 24),
    "GOOGLE_API_KEY": lambda r: "AIza" + _rand(r, ALNUM + "-_", 35),
    "JWT": _jwt,
    "PRIVATE_KEY": _pem,
    "HIGH_ENTROPY_SECRET": lambda r: _rand(r, ALNUM, 32),
}

TEMPLATES = [
    "please deploy using {}",
    "token={} (rotated yesterday)",
    "the CI variable is set to {} for the nightly job",
    '{{"credential": "{}", "region": "eu-west-1"}}',
    "export VALUE={}",
]

NEGATIVES = [
    lambda r: f"deployed commit {_rand(r, '0123456789abcdef', 40)} to production",
    lambda r: f"checksum sha256:{_rand(r, '0123456789abcdef', 64)}",
    lambda r: f"request {_uuid(r)} finished",
    lambda r: "path /var/lib/postgresql/15/main/pg_wal/archive_status",
    lambda r: f"restart deployment api-gateway-{r.randint(1, 99)} in namespace payments-prod",
    lambda r: f"rows exported: {r.randint(1000, 999999)}, bucket s3://analytics-exports/2026/11/",
    lambda r: "the token bucket refills at 100 requests per second",
]


def samples(n: int, seed: int = 7) -> list[tuple[str, list[tuple[str, int, int]]]]:
    rng = random.Random(seed)
    out: list[tuple[str, list[tuple[str, int, int]]]] = []
    kinds = list(GENERATORS)
    for i in range(n):
        roll = i % 10
        if roll < 6:
            entity = kinds[i % len(kinds)]
            secret = GENERATORS[entity](rng)
            template = rng.choice(TEMPLATES)
            text = template.format(secret)
            start = text.index(secret)
            out.append((text, [(entity, start, start + len(secret))]))
        elif roll == 6:
            password = _rand(rng, ALNUM + "!#%", rng.randint(10, 18))
            user = rng.choice(["etl", "app", "admin", "reporting"])
            host = f"db{rng.randint(1, 9)}.internal:5432"
            text = f"connect to postgres://{user}:{password}@{host}/crm"
            start = text.index(password)
            out.append((text, [("CONNECTION_PASSWORD", start, start + len(password))]))
        elif roll == 7:
            value = _rand(rng, ALNUM + "-", rng.randint(12, 24))
            name = rng.choice(["DB_PASSWORD", "api_key", "client_secret", "SERVICE_TOKEN"])
            text = f"set {name}={value} before the run"
            start = text.index(value)
            out.append((text, [("SECRET_ASSIGNMENT", start, start + len(value))]))
        elif roll == 8:
            card = _luhn_complete(rng, str(rng.randint(2221, 2720)))
            text = f"charge card {card} for the renewal"
            start = text.index(card)
            out.append((text, [("CREDIT_CARD", start, start + len(card))]))
        else:
            out.append((rng.choice(NEGATIVES)(rng), []))
    return out
