"""Recognizers for what Presidio's defaults miss: credentials, and Mastercard's 2-series.

The token formats come from detect-secrets' maintained plugins (their ``denylist``
expressions, which are also what its own scanner runs), so a vendor's new prefix is
one upgrade away; what detect-secrets has no plugin for (Google API keys, passwords
inside URLs, PEM blocks of any length, ``name=value`` assignments) is written here.
Every pattern is case-sensitive unless it says otherwise: ``AKIA`` is not ``akia``.

A recognizer reports the span of the secret itself, never more: in
``postgres://app:hunter2@db`` only ``hunter2`` is masked, so a reviewer still sees
which database an action touches.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.high_entropy_strings import (
    Base64HighEntropyString,
    HexHighEntropyString,
)
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.stripe import StripeDetector
from presidio_analyzer import EntityRecognizer, Pattern, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import CreditCardRecognizer

# What a field's name says: decided in ``sanitization.keys`` (kept importable here).
from sanitization.keys import is_secret_key


@dataclass(frozen=True)
class Rule:
    """One expression for one entity. With a ``secret`` group, only that group is the
    finding; ``valid`` can veto a match (a JWT that does not decode)."""

    entity: str
    regex: re.Pattern[str]
    score: float = 0.9
    valid: Callable[[str], bool] | None = None


def _denylist(plugin: object) -> tuple[re.Pattern[str], ...]:
    return tuple(plugin.denylist)  # type: ignore[attr-defined]


# Names of secrets, not a secret.
_SECRET_NAME = (
    r"(?:pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|access[_-]?key"  # noqa: S105
    r"|private[_-]?key|client[_-]?secret|auth(?:orization)?|credentials?)"
)

RULES: tuple[Rule, ...] = (
    *(Rule("AWS_ACCESS_KEY", rx, 0.95) for rx in _denylist(AWSKeyDetector())[:1]),
    Rule(
        "AWS_SECRET_KEY",
        re.compile(
            r"(?i:aws.{0,24}?(?:secret|private).{0,24}?)[\"']?\s*[:=]\s*[\"']?"
            r"(?P<secret>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])"
        ),
        0.95,
    ),
    *(Rule("GITHUB_TOKEN", rx, 0.95) for rx in _denylist(GitHubTokenDetector())),
    Rule("GITHUB_TOKEN", re.compile(r"\bgithub_pat_[A-Za-z0-9_]{82}\b"), 0.95),
    *(Rule("GITLAB_TOKEN", rx, 0.95) for rx in _denylist(GitLabTokenDetector())),
    *(Rule("SLACK_TOKEN", rx, 0.95) for rx in _denylist(SlackDetector())),
    *(Rule("STRIPE_KEY", rx, 0.95) for rx in _denylist(StripeDetector())),
    Rule("STRIPE_KEY", re.compile(r"\b(?:sk|rk)_test_[0-9a-zA-Z]{24,99}\b"), 0.9),
    Rule("GOOGLE_API_KEY", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])"), 0.95),
    Rule(
        "JWT",
        re.compile(r"\beyJ[A-Za-z0-9_\-]+=*\.eyJ[A-Za-z0-9_\-]+=*\.[A-Za-z0-9_\-+/=]*"),
        0.9,
        valid=JwtTokenDetector.is_formally_valid,
    ),
    Rule(
        "PRIVATE_KEY",
        # To the END line, or to the end of the text when the block was cut short.
        re.compile(
            r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
            r"(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)"
        ),
        1.0,
    ),
    Rule(
        "CONNECTION_PASSWORD",
        # scheme://user:password@host — the password, up to the last "@" of the
        # authority (passwords may contain "@"; hosts may not).
        # A "#" or "?" in a password is read as part of it (URL syntax would start a
        # fragment or a query there, but people paste passwords as they are).
        re.compile(
            r"\b[a-zA-Z][a-zA-Z0-9+.\-]{0,30}://[^\s:/?#@]{0,256}:(?P<secret>[^\s/@]{1,256})@[^\s@/?#]+"
        ),
        0.95,
    ),
    Rule(
        "CONNECTION_PASSWORD",
        # key=value DSNs: "host=db user=app password=s3cret", "Password=...;" (ADO.NET)
        re.compile(r"(?i:\b(?:password|pwd)\s*=\s*)(?P<secret>'[^']*'|[^\s;'\"]+)"),
        0.9,
    ),
    Rule("OPENAI_KEY", re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{32,}"), 0.9),
    Rule("SENDGRID_KEY", re.compile(r"\bSG\.[A-Za-z0-9_\-]{16,32}\.[A-Za-z0-9_\-]{32,64}"), 0.95),
    Rule("NPM_TOKEN", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b"), 0.95),
    Rule("MAILGUN_KEY", re.compile(r"\bkey-[0-9a-f]{32}\b"), 0.9),
    Rule(
        "SLACK_WEBHOOK",
        re.compile(
            r"hooks\.slack\.com/services/T[A-Z0-9]{6,}/B[A-Z0-9]{6,}/(?P<secret>[A-Za-z0-9]{16,})"
        ),
        0.95,
    ),
    Rule("PASSWORD_HASH", re.compile(r"\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}"), 0.9),
    Rule(
        "SECRET_ASSIGNMENT",
        # In prose: "your temporary password is Winter2024.", "PIN: 4411",
        # "CREATE USER x WITH PASSWORD 'S3cret'" (the value, not the sentence's full stop).
        re.compile(
            r"(?i:\b(?:pass(?:word|phrase|code)?|pwd|pw|pin)\b[ \t]{0,4}"
            r"(?:(?:is|was|will[ \t]be|has[ \t]been|set[ \t]to|changed[ \t]to|reset[ \t]to"
            r"|now|:|=)[ \t]{0,4}){1,3})"
            # Not a plain lower-case word ("is required", "was changed"), unless long.
            r"[\"'`\u201c\u2018]?(?P<secret>(?![a-z]{4,11}[.,;:!?)\"'`\u201d\u2019]*(?:\s|$))[^\s\"'`\u201d\u2019]{4,}?)"
            r"[\"'`\u201d\u2019]?(?=[.,;:!?)]*(?:\s|$))"
        ),
        0.8,
    ),
    Rule(
        "SECRET_ASSIGNMENT",
        re.compile(r"(?i:\bwith\s+(?:encrypted\s+)?password\s+)'(?P<secret>[^']{1,200})'"),
        0.9,
    ),
    # Command lines: "--password S3cret", "mysql -pS3cret", "curl -u user:S3cret",
    # "sshpass -p 'S3cret'" (the NAME=value forms are read as fields).
    Rule(
        "SECRET_ASSIGNMENT",
        re.compile(
            r"(?<![\w-])--?(?i:password|passwd|pass|pwd|token|api-key|apikey|secret|client-secret"
            r"|access-key|secret-key|auth-token|private-key)[ \t]+['\"]?"
            r"(?P<secret>(?!-)[^\s'\"]{3,200})"
        ),
        0.8,
    ),
    Rule(
        "SECRET_ASSIGNMENT",
        re.compile(
            r"\bmysql(?:dump|admin|import|sh)?\b[^\n|;&]{0,300}?[ \t]-p['\"]?"
            r"(?P<secret>[^\s'\"]{1,200})"
        ),
        0.85,
    ),
    Rule(
        "SECRET_ASSIGNMENT",
        re.compile(r"\bsshpass\b[^\n|;&]{0,100}?[ \t]-p[ \t]*['\"]?(?P<secret>[^\s'\"]{1,200})"),
        0.85,
    ),
    Rule(
        "SECRET_ASSIGNMENT",
        re.compile(
            r"\b(?:curl|wget|http)\b[^\n|;&]{0,500}?[ \t](?:-u|--user|--http-user)[ \t=]*['\"]?"
            r"[^\s:'\"]{1,100}:(?P<secret>[^\s'\"@]{1,200})"
        ),
        0.85,
    ),
    Rule(
        "SECRET_ASSIGNMENT",
        # "... / secret wJalrXUtnFEMI/K7MDENG...", "new token is Xy7...": a word that
        # names a secret, then a token with capitals, small letters and digits.
        re.compile(
            r"(?i:\b(?:secret|token|api[ _-]?key|access[ _-]?key|secret[ _-]?key)\b[ \t]{1,4}"
            r"(?:(?:is|was|:|=)[ \t]{1,4})?)"
            r"(?P<secret>(?=[A-Za-z0-9+/=_\-]{0,200}\d)(?=[A-Za-z0-9+/=_\-]{0,200}[A-Z])"
            r"(?=[A-Za-z0-9+/=_\-]{0,200}[a-z])[A-Za-z0-9+/=_\-]{16,200})(?![A-Za-z0-9+/=_\-])"
        ),
        0.7,
    ),
    Rule(
        "SECRET_ASSIGNMENT",
        # api_key=..., "client_secret": "...", export GITHUB_TOKEN=..., Authorization: Bearer ...
        re.compile(
            # Bounded, and anchored at the start of a name: linear on any input.
            rf"(?i:(?<![\w.\-])(?P<name>[\w.\-]{{0,40}}?{_SECRET_NAME}[\w.\-]{{0,40}})[\"']?\s{{0,8}}"
            r"(?::|=|=>)\s{0,8}[\"']?(?:bearer\s+|basic\s+)?)"
            r"(?P<secret>[^\s\"',;&}]{6,})"
        ),
        0.8,
    ),
)


_CREDENTIAL_CUE = re.compile(
    r"(?i)(?:token|secret|key|auth|passw|pwd|api|bearer|credential|signature|\bsig\b)"
)
_ID_CUE = re.compile(
    r"(?i)(?:sha|md5|hash|digest|checksum|commit|etag|\bsum\b|fingerprint|trace|span|request|"
    r"correlation|\brev\b|\bkey[ _-]?id\b)"
)
# Where a long base64-looking token is data, not a key: an image or file in a data
# URI, a Subresource Integrity or image digest.
_DATA_PREFIX = re.compile(r"(?i)(?:;base64,|sha(?:1|224|256|384|512)[-:=]|\bmd5[-:=])$")
# Binary formats that begin base64 text (PNG, JPEG, GIF, PDF, WebP/RIFF, ZIP, gzip).
_SRI = re.compile(r"(?i)sha(?:1|224|256|384|512)-")
_DATA_MAGIC = ("iVBORw0KGgo", "/9j/", "R0lGOD", "JVBERi0", "UklGR", "UEsDB", "H4sI")
# An API's object ids (ch_..., cus_..., pi_..., file-...): a prefix of lower-case
# letters and a random part. Secret prefixes (sk_, rk_, ghp_...) have rules above.
_OBJECT_ID = re.compile(r"[a-z]{2,10}[_-][A-Za-z0-9]{8,64}")
_SECRET_PREFIX = re.compile(r"(?:sk|rk|whsec|ghp|gho|ghs|ghu|ghr|glpat|npm|xox[a-z]|key)[_-]")


def _not_a_secret(text: str, start: int, token: str) -> bool:
    if _DATA_PREFIX.search(text[max(0, start - 12) : start]) or _SRI.match(token):
        return True
    if token.startswith(_DATA_MAGIC) and len(token) > 60:
        return True
    # Blobs: a key is at most a few hundred characters (PEM blocks have their rule).
    if len(token) > 400:
        return True
    return bool(_OBJECT_ID.fullmatch(token) and not _SECRET_PREFIX.match(token))


class SecretRecognizer(EntityRecognizer):
    """Credentials by format or by the name they are assigned to, and high-entropy tokens."""

    # detect-secrets' own limits: Shannon entropy in bits per character.
    BASE64_LIMIT = 4.5
    HEX_LIMIT = 3.0

    _base64_candidate = re.compile(r"(?<![A-Za-z0-9+/=_\-])[A-Za-z0-9+/_\-]{20,}={0,2}")
    _hex_candidate = re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{32,}(?![0-9A-Za-z])")

    def __init__(self, rules: Iterable[Rule] = RULES) -> None:
        self.rules = tuple(rules)
        self._base64 = Base64HighEntropyString(limit=self.BASE64_LIMIT)
        self._hex = HexHighEntropyString(limit=self.HEX_LIMIT)
        entities = sorted({rule.entity for rule in self.rules} | {"HIGH_ENTROPY_SECRET"})
        super().__init__(supported_entities=entities, name="AirlockSecretRecognizer")

    def load(self) -> None:  # nothing to load: compiled at import
        pass

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        wanted = set(entities)
        results: list[RecognizerResult] = []
        for rule in self.rules:
            if rule.entity not in wanted:
                continue
            for match in rule.regex.finditer(text):
                start, end = (
                    match.span("secret") if "secret" in rule.regex.groupindex else match.span()
                )
                if end <= start or (rule.valid and not rule.valid(match.group(0))):
                    continue
                # "SharedAccessKeyName=...", "token-type:...": a name about a secret.
                if "name" in rule.regex.groupindex and not is_secret_key(match.group("name")):
                    continue
                results.append(RecognizerResult(rule.entity, start, end, rule.score))
        if "HIGH_ENTROPY_SECRET" in wanted:
            results.extend(self._high_entropy(text, covered=results))
        return results

    def _high_entropy(
        self, text: str, covered: list[RecognizerResult]
    ) -> Iterable[RecognizerResult]:
        def inside(start: int, end: int) -> bool:
            return any(r.start <= start and end <= r.end for r in covered)

        for match in self._hex_candidate.finditer(text):
            token = match.group(0)
            # Hex is how ids are written (commits, digests, trace and account ids):
            # a hex string is a secret only where the words before it say so.
            before = text[max(0, match.start() - 40) : match.start()].rsplit("\n", 1)[-1]
            if not _CREDENTIAL_CUE.search(before) or _ID_CUE.search(before):
                continue
            if self._hex.calculate_shannon_entropy(token) > self.HEX_LIMIT and not inside(
                *match.span()
            ):
                yield RecognizerResult("HIGH_ENTROPY_SECRET", *match.span(), 0.6)
        for match in self._base64_candidate.finditer(text):
            token = match.group(0)
            # Words joined by separators (hostnames, paths, snake_case) are not keys.
            if not (re.search(r"[A-Z]", token) and re.search(r"[a-z]", token)):
                continue
            if not re.search(r"\d", token) or re.fullmatch(r"[A-Za-z_\-/]+\d*", token):
                continue
            if _not_a_secret(text, match.start(), token):
                continue
            entropy = self._base64.calculate_shannon_entropy(token)
            if entropy > self.BASE64_LIMIT and not inside(*match.span()):
                yield RecognizerResult("HIGH_ENTROPY_SECRET", *match.span(), 0.6)


class MastercardTwoSeriesRecognizer(CreditCardRecognizer):
    """Mastercard's 2221-2720 range, which Presidio's card pattern does not cover.
    The parent's Luhn check decides; the entity stays ``CREDIT_CARD``."""

    PATTERNS = [
        Pattern(
            "Mastercard 2-series",
            r"\b(?:222[1-9]|22[3-9]\d|2[3-6]\d{2}|27[01]\d|2720)[- ]?\d{4}[- ]?\d{4}[- ]?\d{4}\b",
            0.3,
        )
    ]

    def __init__(self) -> None:
        super().__init__(patterns=self.PATTERNS, name="MastercardTwoSeriesRecognizer")


def airlock_recognizers() -> list[EntityRecognizer]:
    from presidio_analyzer.predefined_recognizers import UkNinoRecognizer

    from sanitization.personal import personal_recognizers

    return [
        SecretRecognizer(),
        MastercardTwoSeriesRecognizer(),
        UkNinoRecognizer(),
        *personal_recognizers(),
    ]
