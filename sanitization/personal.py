# ruff: noqa: E501, RUF001  (expressions read better whole; the typographic quotes and dashes are what they match)
"""Recognizers for personal data that Presidio's defaults and the small spaCy model miss:
dates of birth said as such, street addresses, names where the words around them
say a person is meant ("Dear ...", "Regards,\\n...", "approved by ..."), names in other
scripts inside Latin text, passport and national id numbers given in a sentence.

They read the grammar of the text (what precedes a date, how streets are written,
how a letter opens), never lists of names or places: a name that is in no list is
found the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

# -- shared pieces ------------------------------------------------------------------------

_UPPER = r"A-ZÀ-ÖØ-ÞĀĂĄĆĈĊČĎĐĒĔĖĘĚĜĞĠĢĤĦĨĪĬĮİĲĴĶĹĻĽĿŁŃŅŇŊŌŎŐŒŔŖŘŚŜŞŠŢŤŦŨŪŬŮŰŲŴŶŸŹŻŽ"
# A capitalized word in any Latin script: Müller, O'Neil, Jean-Luc, Ó.
# Bounded (a word of at most 4 parts of 40 letters): no expression here backtracks
# more than a constant per position, on any input.
CAP_WORD = rf"[{_UPPER}][^\W\d_]{{0,40}}(?:['’\-][^\W\d_]{{1,40}}){{0,3}}"
_PARTICLE = (
    r"(?:de|da|del|della|di|do|dos|das|du|van|von|der|den|het|ten|ter|op|le|la|bin|ibn|al|el|y|e"
    r"|mac|st\.|'t)"
)
# Two to four words of a name: "Igor Holewa", "Ana de la Cruz", "Kimberly Q. Rodriguez".
PERSON_NAME = (
    rf"{CAP_WORD}(?:[ \t]+(?:[A-Z]\.[ \t]+)?(?:{_PARTICLE}[ \t]+){{0,2}}{CAP_WORD}){{0,3}}"
)
_OTHER_SCRIPTS = (
    "\u0370-\u03ff\u0400-\u04ff\u0500-\u052f\u0530-\u058f\u0590-\u05ff\u0600-\u06ff"
    "\u0900-\u097f\u0e00-\u0e7f\u10a0-\u10ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
)
OTHER_SCRIPT_RUN = rf"[{_OTHER_SCRIPTS}][{_OTHER_SCRIPTS}\u0300-\u036f]*"
NON_LATIN_NAME = rf"{OTHER_SCRIPT_RUN}(?:[ \t·・]{OTHER_SCRIPT_RUN}){{0,3}}"

# Capitalized words that open phrases without being anyone's name.
NOT_A_NAME = frozenset(
    [
        "team",
        "all",
        "everyone",
        "everybody",
        "there",
        "customer",
        "customers",
        "support",
        "sir",
        "madam",
        "folks",
        "colleagues",
        "friends",
        "guys",
        "user",
        "users",
        "admin",
        "admins",
        "the",
        "a",
        "an",
        "this",
        "that",
        "our",
        "your",
        "my",
        "his",
        "her",
        "their",
        "its",
        "thanks",
        "thank",
        "regards",
        "best",
        "hello",
        "hi",
        "dear",
        "good",
        "morning",
        "afternoon",
        "evening",
        "please",
        "yes",
        "no",
        "ok",
        "inc",
        "ltd",
        "llc",
        "gmbh",
        "corp",
        "corporation",
        "co",
        "plc",
        "ag",
        "sa",
        "bv",
        "nv",
        "kg",
        "group",
        "groups",
        "department",
        "dept",
        "service",
        "services",
        "api",
        "bot",
        "app",
        "apps",
        "system",
        "systems",
        "platform",
        "report",
        "reports",
        "dashboard",
        "pack",
        "board",
        "project",
        "projects",
        "cluster",
        "database",
        "db",
        "bucket",
        "queue",
        "pipeline",
        "policy",
        "role",
        "desk",
        "ops",
        "operations",
        "engineering",
        "analytics",
        "finance",
        "sales",
        "marketing",
        "growth",
        "security",
        "infra",
        "infrastructure",
        "prod",
        "production",
        "staging",
        "test",
        "demo",
        "default",
        "weekly",
        "daily",
        "monthly",
        "quarterly",
        "annual",
        "revenue",
        "churn",
        "global",
        "international",
        "holdings",
        "partners",
        "foods",
        "logistics",
        "traders",
        "pharma",
        "industries",
        "industrial",
        "supply",
        "imports",
        "bank",
        "university",
        "school",
        "hospital",
        "clinic",
        "store",
        "shop",
        "labs",
        "technologies",
        "solutions",
        "consulting",
        "studio",
        "media",
        "network",
        "foundation",
        "association",
        "committee",
        "council",
        "agency",
        "office",
        "center",
        "centre",
        "cloud",
        "server",
        "servers",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "january",
        "february",
        "march",
        "april",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "street",
        "road",
        "avenue",
        "lane",
        "drive",
    ]
)


def looks_like_name(value: str, *, single: bool = False) -> bool:
    """Whether ``value`` reads as a person's name: two to five capitalized words (or
    one, with ``single``), or a short run of another script; no digits, no symbols."""
    text = value.strip()
    if not text or len(text) > 80 or re.search(r"[\d@/_:=<>{}\[\]#|\\]", text):
        return False
    if re.fullmatch(NON_LATIN_NAME, text):
        return True
    tokens = text.replace(",", " ").split()
    if not (1 if single else 2) <= len(tokens) <= 5:
        return False
    if any(len(t.strip(".")) > 1 and t.lower().strip(".") in NOT_A_NAME for t in tokens):
        return False
    particle = re.compile(rf"{_PARTICLE}|[A-Z]\.", re.IGNORECASE)
    return all(re.fullmatch(CAP_WORD + r"\.?", t) or particle.fullmatch(t) for t in tokens)


@dataclass(frozen=True)
class _Pattern:
    entity: str
    regex: re.Pattern[str]
    score: float
    group: str = "value"


class _GrammarRecognizer(EntityRecognizer):
    """Expressions whose ``value`` group is the finding."""

    PATTERNS: tuple[_Pattern, ...] = ()
    NAME = "AirlockGrammarRecognizer"

    def __init__(self) -> None:
        super().__init__(
            supported_entities=sorted({p.entity for p in self.PATTERNS}), name=self.NAME
        )

    def load(self) -> None:
        pass

    def keep(self, text: str, start: int, end: int, nlp_artifacts: NlpArtifacts | None) -> bool:
        return True

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        wanted = set(entities)
        out = []
        for pattern in self.PATTERNS:
            if pattern.entity not in wanted:
                continue
            for match in pattern.regex.finditer(text):
                start, end = match.span(pattern.group)
                if end > start and self.keep(text, start, end, nlp_artifacts):
                    out.append(RecognizerResult(pattern.entity, start, end, pattern.score))
        return out


# -- dates of birth -----------------------------------------------------------------------

_MONTH = (
    r"(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
DATE = (
    rf"(?:\d{{4}}[-/.]\d{{1,2}}[-/.]\d{{1,2}}|\d{{1,2}}[-/.]\d{{1,2}}[-/.]\d{{2,4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?[ \t]+(?:of[ \t]+)?{_MONTH}\.?,?[ \t]+\d{{4}}"
    rf"|{_MONTH}\.?[ \t]+\d{{1,2}}(?:st|nd|rd|th)?,?[ \t]+\d{{4}})"
)
_BIRTH_CUE = (
    r"(?i:\b(?:born(?:[ \t]+on)?|d\.?o\.?b\.?|date[ \t]+of[ \t]+birth|birth[ \t]?date|birthday"
    r"|geb(?:oren|\.)(?:[ \t]+am)?|né(?:e)?[ \t]+le|fecha[ \t]+de[ \t]+nacimiento))"
)
_LINK = r"(?:[ \t]{0,3}(?:[:=\-–][ \t]{0,3}|(?i:is|was|on|of)[ \t]{1,3})){0,2}[ \t]{0,3}"


class DateOfBirthRecognizer(_GrammarRecognizer):
    """A date that the words before it call a birth date: "born 26/12/1954",
    "DOB: 1954-12-26", "date of birth is March 3, 1961". Other dates stay."""

    NAME = "AirlockDateOfBirthRecognizer"
    PATTERNS = (
        _Pattern("DATE_OF_BIRTH", re.compile(rf"{_BIRTH_CUE}{_LINK}(?P<value>{DATE})"), 0.85),
    )


# -- national ids in a sentence -------------------------------------------------------------

_NUMBER_WORDS = r"(?:[ \t]+(?i:no\.?|nr\.?|number|num|#|id))?"


class IdNumberPhraseRecognizer(_GrammarRecognizer):
    """Passport, social security and other national id numbers named in the text:
    "my passport number is 533380006", "SSN: 123456789", "tax id 12345678901"."""

    NAME = "AirlockIdNumberPhraseRecognizer"
    PATTERNS = (
        _Pattern(
            "PASSPORT",
            re.compile(
                rf"(?i:\bpassport){_NUMBER_WORDS}{_LINK}(?P<value>(?=[A-Z0-9]*\d[A-Z0-9]*\d)[A-Z0-9]{{6,12}})\b"
            ),
            0.8,
        ),
        _Pattern(
            "US_SSN",
            re.compile(
                rf"(?i:\b(?:ssn|social[ \t]+security)){_NUMBER_WORDS}{_LINK}"
                r"(?P<value>\d{3}[- .]?\d{2}[- .]?\d{4})\b"
            ),
            0.85,
        ),
        _Pattern(
            "NATIONAL_ID",
            re.compile(
                r"(?i:\b(?:national[ \t]+id(?:entity)?|tax[ \t]+id|tin|sin|dni|nie|nif|aadhaar|pesel"
                rf"|bsn|id[ \t]+card|driver'?s?[ \t]+licen[cs]e)){_NUMBER_WORDS}{_LINK}"
                r"(?P<value>(?=(?:[^\d\n]*\d){4})[A-Z0-9][A-Z0-9 \-]{4,18}[A-Z0-9])\b"
            ),
            0.75,
        ),
        _Pattern(
            "BANK_ACCOUNT",
            re.compile(
                r"(?i:\b(?:routing|account|acct|sort[ \t]+code|aba|bsb))"
                rf"{_NUMBER_WORDS}{_LINK}(?P<value>\d[\d \-]{{4,20}}\d)\b"
            ),
            0.7,
        ),
        _Pattern(
            "PHONE_NUMBER",
            # International numbers as written ("+55 64 9348-3072", "+44 (0)20 7946 0958"),
            # whether or not the number plan knows them.
            re.compile(
                r"(?<![\w+])(?P<value>\+\d{1,3}(?:[ .\-]?\(?\d{1,5}\)?){2,6}"
                r"(?:[ \t]?(?i:x|ext\.?)[ \t]?\d{1,6})?)(?![\w])"
            ),
            0.6,
        ),
        _Pattern(
            "PHONE_NUMBER",
            # North American numbers as written: (555) 123-4567, 555.123.4567 x12
            re.compile(
                r"(?<![\w+.\-])(?P<value>(?:1[ .\-]|001[ .\-])?\(?[2-9]\d{2}\)?[ .\-]?\d{3}[.\-]\d{4}"
                r"(?:[ \t]?(?i:x|ext\.?)[ \t]?\d{1,6})?)(?![\w.\-])"
            ),
            0.5,
        ),
    )

    def keep(self, text: str, start: int, end: int, nlp_artifacts: NlpArtifacts | None) -> bool:
        value = text[start:end]
        if value.startswith("+"):
            return 8 <= sum(c.isdigit() for c in value.split("x")[0]) <= 15
        return True


# -- street addresses -----------------------------------------------------------------------

# USPS street suffixes (Publication 28, C1) and their abbreviations, capitalized.
_SUFFIXES = (
    "Alley|Aly|Annex|Arcade|Avenue|Ave|Av|Bayou|Beach|Bend|Bluffs?|Bottom|Boulevard|Blvd|Branch"
    "|Bridge|Brooks?|Burgs?|Bypass|Byp|Camp|Canyon|Cape|Causeway|Center|Centre|Ctr|Circles?"
    "|Cir|Cliffs?|Club|Commons?|Corners?|Course|Courts?|Ct|Coves?|Creek|Crescent|Cres|Crest"
    "|Crossing|Xing|Crossroads?|Curve|Dale|Dam|Divide|Drives?|Dr|Estates?|Expressway|Expy"
    "|Extensions?|Falls?|Ferry|Fields?|Flats?|Fords?|Forests?|Forges?|Forks?|Fort|Freeway|Fwy"
    "|Gardens?|Gdns|Gateway|Glens?|Greens?|Groves?|Harbors?|Harbours?|Haven|Heights|Hts"
    "|Highway|Hwy|Hills?|Hollow|Inlet|Island|Islands|Isle|Junctions?|Jct|Keys?|Knolls?|Lakes?"
    "|Land|Landing|Lane|Ln|Light|Lights|Loaf|Locks?|Lodge|Loop|Mall|Manors?|Meadows?|Mews"
    "|Mill|Mills|Missions?|Motorway|Mount|Mountains?|Mtn|Neck|Orchard|Oval|Overpass|Park"
    "|Parks|Parkway|Pkwy|Pass|Passage|Path|Pike|Pines?|Place|Pl|Plains?|Plaza|Points?|Ports?"
    "|Prairie|Radial|Ramp|Ranch|Rapids?|Rest|Ridges?|Rise|River|Road|Roads|Rd|Route|Row|Rue"
    "|Run|Shoals?|Shores?|Skyway|Springs?|Spurs?|Squares?|Sq|Station|Stravenue|Streams?"
    "|Streets?|St|Summit|Terrace|Ter|Throughway|Trace|Track|Trafficway|Trail|Trl|Trailer"
    "|Tunnel|Turnpike|Underpass|Unions?|Valleys?|Viaduct|Views?|Villages?|Ville|Vista|Walks?"
    "|Wall|Way|Ways|Wells?|Woods?|Close|Drove|Gate|Grange|Green|Hill|Lawn|Mead|Parade|Quay"
    "|Wharf|Wynd|Yard|Chase|Croft|Fold|Garth|Grove|Rise|Vale|Walk"
)
_UNIT = (
    r"(?:,?[ \t]+(?i:apt|apartment|suite|ste|unit|flat|fl|floor|room|rm|#)\.?[ \t]?[\w\-]{1,6})?"
)
_UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?[ \t]?\d[A-Z]{2}"
_PLACE = rf"{CAP_WORD}(?:[ \t]{CAP_WORD}){{0,3}}"
_US_TAIL = rf"(?:,[ \t]?{_PLACE}(?:,?[ \t][A-Z]{{2}})?(?:[ \t]\d{{5}}(?:-\d{{4}})?)?)"
_UK_TAIL = rf"(?:,?[ \t]+(?:{_PLACE}[ \t]+)?{_UK_POSTCODE})"
# 12345 Berlin, 1012 AB Amsterdam, H-7690 Sopron, 75001 Paris
_EU_TAIL = rf"(?:,?[ \t]+(?:[A-Z]{{1,2}}-)?\d{{4,5}}(?:[ \t]?[A-Z]{{2}})?[ \t]+{_PLACE})?"
_HOUSE = r"\d{1,6}[A-Za-z]?(?:[-/]\d{1,4}[A-Za-z]?)?"
_PREFIX_TYPES = (
    r"(?i:calle|c/|avenida|avda\.?|av\.|plaza|pza\.?|paseo|camino|carretera|ctra\.?|callej[oó]n"
    r"|pasaje|pasadizo|ronda|traves[ií]a|glorieta|rambla|ca[ñn]ada|alameda|via|viale|piazza"
    r"|piazzale|corso|vicolo|largo|borgo|strada|contrada|rotonda|rua|travessa|pra[çc]a|rue"
    r"|avenue|boulevard|bd|chemin|all[ée]e|impasse|place|quai|route|cours|ul\.|ulica|al\."
    r"|aleja|os\.|osiedle|pl\.)"
)
_LINKWORDS = (
    r"(?:(?i:de|del|de la|de las|de los|di|della|dei|delle|da|do|dos|das|du|des|la|le|l'|d')[ \t]?)"
)
_COMPOUND_TYPES = (
    r"(?i:stra(?:ß|ss)e|str\.|weg|gasse|platz|allee|ring|damm|ufer|steig|pfad|chaussee|gracht"
    r"|laan|straat|plein|singel|dreef|kade|steeg|hof|gatan|v[äa]gen|gr[äa]nd|stigen|vej|gade"
    r"|veien|gata)"
)


class StreetAddressRecognizer(_GrammarRecognizer):
    """Street addresses as they are written: "17066 Heather Grove Apt. 915, North
    Anthonyside, AL 50466", "12 Baker Street, London NW1 6XE", "Hauptstraße 5, 12345
    Berlin", "77, rue Coulon", "Calle Mayor 5". The house number and a street-type
    word make an address; the town and postcode after it are taken along."""

    NAME = "AirlockStreetAddressRecognizer"
    PATTERNS = (
        _Pattern(
            "ADDRESS",
            re.compile(
                rf"(?<![\w\-/.])(?P<value>{_HOUSE},?[ \t]+(?:{CAP_WORD}[ \t]+){{0,4}}(?:{_SUFFIXES})\b\.?"
                rf"{_UNIT}(?:{_UK_TAIL}|{_US_TAIL})?)"
            ),
            0.7,
        ),
        _Pattern(
            "ADDRESS",
            re.compile(
                rf"(?<![\w\-/.])(?P<value>{_HOUSE},?[ \t]+{_PREFIX_TYPES}[ \t]+{_LINKWORDS}{{0,2}}{_PLACE}{_EU_TAIL})"
            ),
            0.7,
        ),
        _Pattern(
            "ADDRESS",
            re.compile(
                rf"(?<![\w\-])(?P<value>{_PREFIX_TYPES}[ \t]+{_LINKWORDS}{{0,2}}{CAP_WORD}(?:[ \t]+{_LINKWORDS}?{CAP_WORD}){{0,4}},?"
                rf"[ \t]+{_HOUSE}(?:[ \t]+(?i:piso|puerta|esc\.|apt\.?|int\.?|piano|scala|bajo)[ \t]?\w{{1,4}}){{0,2}}{_EU_TAIL})"
            ),
            0.7,
        ),
        _Pattern(
            "ADDRESS",
            re.compile(
                rf"(?<![\w\-])(?P<value>(?:{CAP_WORD}[\- ]){{0,2}}(?=[{_UPPER}])[^\W\d_]{{0,40}}?{_COMPOUND_TYPES}\b\.?[ \t]+{_HOUSE}{_EU_TAIL})"
            ),
            0.7,
        ),
        _Pattern(
            "ADDRESS",
            re.compile(
                rf"(?<![\w\-])(?P<value>{CAP_WORD}(?:[ \t]{CAP_WORD})?[ \t]+(?i:utca|út|tér|körút|gatan|vej|gade|straat|laan|ulica)[ \t]+{_HOUSE}\.?{_EU_TAIL})"
            ),
            0.7,
        ),
    )


# -- names ----------------------------------------------------------------------------------

_TITLE = r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Madam|Herr|Frau|Sr|Sra|Mme|Mlle|M)\.?"
_GREETING = (
    r"(?:Dear|Hi|Hello|Hey|Hiya|Greetings|Good[ \t]+(?:morning|afternoon|evening)|Attn\.?:?"
    r"|Attention:?|To|Bonjour|Hallo|Hola|Ciao|Liebe|Lieber|Sehr[ \t]+geehrte[rs]?)"
)
_SIGN_OFF = (
    r"(?i:regards|best|thanks|thank[ \t]+you|cheers|sincerely|best[ \t]+wishes|warm[ \t]+regards"
    r"|kind[ \t]+regards|best[ \t]+regards|yours[ \t]+truly|yours[ \t]+sincerely|yours"
    r"|respectfully|br|mit[ \t]+freundlichen[ \t]+gr[üu](?:ß|ss)en|cordialement|saludos|--|—)"
)
_CUE = (
    r"(?:by|from|with|for|to|cc|and|contact|customer|user|employee|manager|colleague|owner"
    r"|assignee|reporter|requester|named|called|met|spoke[ \t]+with|talked[ \t]+to|on[ \t]+behalf[ \t]+of"
    r"|approved[ \t]+by|signed[ \t]+by|patient|client|tenant|guest|member|applicant|candidate"
    r"|name[ \t]+of|discussed,?|colleague)"
)
# spaCy's labels for what is not a person, where a cue word alone proposed one.
_NOT_PERSON_LABELS = {"LOCATION", "GPE", "LOC", "FAC"}


class PersonCueRecognizer(_GrammarRecognizer):
    """Names the words around them mark as a person's, where the small model is
    weakest: after a greeting ("Dear Igor Holewa," is ORG to it), a title
    ("Ms. Dubois"), before a sign-off line, and two capitalized words after words
    such as "approved by", "spoke with", "customer"."""

    NAME = "AirlockPersonCueRecognizer"
    PATTERNS = (
        _Pattern(
            "PERSON",
            re.compile(
                rf"(?:^|(?<=[\s>\"'(]))(?:{_GREETING})[ \t]+(?:{_TITLE}[ \t]+)?(?P<value>{PERSON_NAME}|{NON_LATIN_NAME})(?=[ \t]*(?:[,;:!.\n]|$))"
            ),
            0.7,
        ),
        _Pattern(
            "PERSON",
            re.compile(rf"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.?[ \t]+(?P<value>{PERSON_NAME})"),
            0.7,
        ),
        _Pattern(
            "PERSON",
            re.compile(
                rf"{_SIGN_OFF}[ \t]*,?[ \t]*\r?\n[ \t]*(?P<value>{PERSON_NAME}|{NON_LATIN_NAME})[ \t]*(?=\r?\n|$)"
            ),
            0.7,
        ),
        _Pattern(
            "PERSON",
            re.compile(
                rf"\b(?i:{_CUE})[ \t]+(?P<value>{CAP_WORD}(?:[ \t]+(?:[A-Z]\.[ \t]+)?(?:{_PARTICLE}[ \t]+){{0,2}}{CAP_WORD}){{1,3}})"
            ),
            0.55,
        ),
    )

    def keep(self, text: str, start: int, end: int, nlp_artifacts: NlpArtifacts | None) -> bool:
        value = text[start:end]
        if re.fullmatch(NON_LATIN_NAME, value):
            return True
        words = value.split()
        if any(len(w.strip(".")) > 1 and w.lower().strip(".") in NOT_A_NAME for w in words):
            return False
        if nlp_artifacts is not None and len(words) >= 2 and self._cue_only(text, start):
            for entity in nlp_artifacts.entities or ():
                label = entity.label_
                if (
                    label in _NOT_PERSON_LABELS
                    and entity.start_char < end
                    and start < entity.end_char
                ):
                    # "Dear Igor Holewa," is ORG to the small model: only cue words yield.
                    return False
        return True

    @staticmethod
    def _cue_only(text: str, start: int) -> bool:
        before = text[max(0, start - 40) : start]
        return not re.search(rf"(?:{_GREETING}|{_TITLE}|\n)[ \t]*$", before)


class OtherScriptNameRecognizer(_GrammarRecognizer):
    """A short run of another script inside Latin text: in an English ticket, "Иван
    Петров", "山田太郎" or "김민수" is almost always a name (or an address), and the
    English model cannot read it."""

    NAME = "AirlockOtherScriptNameRecognizer"
    PATTERNS = (
        _Pattern(
            "PERSON",
            re.compile(rf"(?<![^\W\d_])(?P<value>{NON_LATIN_NAME})(?![^\W\d_])"),
            0.6,
        ),
    )

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if not re.search(r"[A-Za-z]{3}", text) or not re.search(f"[{_OTHER_SCRIPTS}]", text):
            return []
        return [r for r in super().analyze(text, entities, nlp_artifacts) if r.end - r.start <= 40]


def personal_recognizers() -> Iterable[EntityRecognizer]:
    return [
        DateOfBirthRecognizer(),
        IdNumberPhraseRecognizer(),
        StreetAddressRecognizer(),
        PersonCueRecognizer(),
        OtherScriptNameRecognizer(),
    ]
