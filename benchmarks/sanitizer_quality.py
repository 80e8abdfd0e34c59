"""Screening quality on realistic agent payloads: Airlock now, Airlock before, plain
Presidio, same payloads, same run.

Data: ``benchmarks/agent_payloads.py`` (seeded, offline): several hundred JSON
payloads of every kind an agent files, each with the personal values and secrets
planted in it (``planted``) and the look-alikes that must stay readable
(``lookalikes``).

Systems, each producing a masked copy of every payload:
- ``airlock``: ``sanitization.screening.screen`` as it is in the work tree;
- ``before``: the same function at git revision ``--before`` (default: the last
  commit before this benchmark), with that revision's default settings;
- ``presidio``: plain Presidio, every string value (and long integer) analyzed with
  its default recognizers and threshold and the same spaCy model, and anonymized.

Scoring, from the masked copy alone (original and masked copy are walked in
parallel; each ``<ENTITY>`` placeholder is aligned back to the characters it hides):
- a planted value is **found** when every place it stands is at least half masked,
  and **leaked** when it still stands verbatim somewhere (0 characters masked);
- **precision**: masked regions that overlap a planted value, over all masked
  regions (a region's group is its placeholder's: ``<PERSON>`` counts for PERSON);
- **F2** weighs recall four times precision: a leak costs more than a needless mask;
- **look-alikes masked**: share of look-alike values with any character masked;
  **keys renamed**: object keys shown differently that were not planted values.

    .venv/bin/python benchmarks/sanitizer_quality.py [--payloads 600] [--seed 1]
        [--before REV] [--systems airlock,before,presidio] [--dump failures.txt]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "airlock.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

import logging  # noqa: E402

logging.disable(logging.WARNING)

from agent_payloads import GROUPS, Sample, samples  # noqa: E402

PLACEHOLDER = re.compile(r"<([A-Z][A-Z0-9_]*)>")

# Placeholder entity -> the group whose precision it counts for.
ENTITY_GROUP = {
    "PERSON": "PERSON",
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "ADDRESS": "ADDRESS",
    "STREET_ADDRESS": "ADDRESS",
    "LOCATION": "ADDRESS",
    "POSTCODE": "ADDRESS",
    "UK_POSTCODE": "ADDRESS",
    "DATE_OF_BIRTH": "DATE_OF_BIRTH",
    "DATE_TIME": "DATE_OF_BIRTH",
    "US_SSN": "NATIONAL_ID",
    "UK_NINO": "NATIONAL_ID",
    "PASSPORT": "NATIONAL_ID",
    "US_PASSPORT": "NATIONAL_ID",
    "NATIONAL_ID": "NATIONAL_ID",
    "US_ITIN": "NATIONAL_ID",
    "US_DRIVER_LICENSE": "NATIONAL_ID",
    "UK_NHS": "NATIONAL_ID",
    "MEDICAL_LICENSE": "NATIONAL_ID",
    "CREDIT_CARD": "CARD",
    "IBAN_CODE": "BANK",
    "US_BANK_NUMBER": "BANK",
    "BANK_ACCOUNT": "BANK",
}
CREDENTIAL_ENTITIES = {
    "SECRET",
    "AWS_ACCESS_KEY",
    "AWS_SECRET_KEY",
    "GITHUB_TOKEN",
    "GITLAB_TOKEN",
    "SLACK_TOKEN",
    "STRIPE_KEY",
    "GOOGLE_API_KEY",
    "JWT",
    "PRIVATE_KEY",
    "CONNECTION_PASSWORD",
    "SECRET_ASSIGNMENT",
    "HIGH_ENTROPY_SECRET",
}


def group_of(entity: str) -> str:
    if entity in CREDENTIAL_ENTITIES or entity.endswith(("_TOKEN", "_KEY", "_SECRET")):
        return "CREDENTIAL"
    return ENTITY_GROUP.get(entity, "OTHER")


# -- alignment ----------------------------------------------------------------------------


def regions(original: str, masked: str) -> list[tuple[int, int, str]]:
    """The spans of ``original`` that ``masked`` shows as placeholders."""
    if original == masked:
        return []
    parts = PLACEHOLDER.split(masked)
    literals, entities = parts[0::2], parts[1::2]
    if not entities:  # changed without a placeholder: count it all as masked
        return [(0, len(original), "OTHER")]
    found = _greedy(original, literals, entities)
    if found is None:
        pattern = re.escape(literals[0]) + "".join(
            r"([\s\S]+?)" + re.escape(literal) for literal in literals[1:]
        )
        match = re.fullmatch(pattern, original)
        if match is None:
            return [(0, len(original), entities[0])]
        found = [(match.start(i + 1), match.end(i + 1), e) for i, e in enumerate(entities)]
    return found


def _greedy(original: str, literals: list[str], entities: list[str]):
    if not original.startswith(literals[0]):
        return None
    cursor = len(literals[0])
    out = []
    for index, entity in enumerate(entities):
        literal = literals[index + 1]
        if index == len(entities) - 1:
            end = len(original) - len(literal)
            if end <= cursor or not original.endswith(literal):
                return None
        else:
            end = original.find(literal, cursor + 1) if literal else cursor + 1
            if end < 0:
                return None
        out.append((cursor, end, entity))
        cursor = end + len(literal)
    return out


def leaf_pairs(original: Any, masked: Any) -> Iterator[tuple[str, str, bool]]:
    """(original text, masked text, is a key) for every key and scalar, in parallel."""
    if isinstance(original, dict):
        for (key, child), (masked_key, masked_child) in zip(
            original.items(), masked.items(), strict=True
        ):
            yield key, masked_key.rstrip("#"), True
            yield from leaf_pairs(child, masked_child)
    elif isinstance(original, list):
        for child, masked_child in zip(original, masked, strict=True):
            yield from leaf_pairs(child, masked_child)
    elif isinstance(original, str):
        yield original, masked if isinstance(masked, str) else str(masked), False
    elif isinstance(original, int) and not isinstance(original, bool):
        yield str(original), str(masked), False


def occurrences(text: str, surface: str) -> Iterator[int]:
    pattern = re.compile(r"(?<![A-Za-z0-9])" + re.escape(surface) + r"(?![A-Za-z0-9])")
    for match in pattern.finditer(text):
        yield match.start()


# -- scoring ------------------------------------------------------------------------------


class Score:
    def __init__(self) -> None:
        self.gold: Counter = Counter()
        self.found: Counter = Counter()
        self.leaked: Counter = Counter()
        self.predicted: Counter = Counter()
        self.correct: Counter = Counter()
        self.lookalikes = 0
        self.lookalikes_masked: Counter = Counter()
        self.lookalike_kinds: Counter = Counter()
        self.keys = 0
        self.keys_renamed = 0
        self.incomplete = 0
        self.unplaced = 0
        self.leaks_by_kind: Counter = Counter()
        self.planted_by_kind: Counter = Counter()
        self.failures: list[str] = []
        self.seconds = 0.0

    def add(self, sample: Sample, masked: Any) -> None:
        if masked is None:
            self.incomplete += 1
            return
        leaves = []
        for original, shown, is_key in leaf_pairs(sample.payload, masked):
            spans = regions(original, shown)
            leaves.append((original, shown, is_key, spans))
        planted_surfaces = {surface for _, surface in sample.planted}
        positives: list[tuple[int, int, int]] = []  # leaf index, start, end
        for group, surface in dict.fromkeys(sample.planted):
            places = [
                (i, start, start + len(surface))
                for i, (original, _, _, _) in enumerate(leaves)
                for start in occurrences(original, surface)
            ]
            if not places:
                self.unplaced += 1
                continue
            positives.extend(places)
            coverage = [_covered(leaves[i][3], s, e) / (e - s) for i, s, e in places]
            self.gold[group] += 1
            self.planted_by_kind[sample.kind] += 1
            if min(coverage) >= 0.5:
                self.found[group] += 1
            if min(coverage) == 0:
                self.leaked[group] += 1
                self.leaks_by_kind[sample.kind] += 1
                i = next(i for (i, s, e), c in zip(places, coverage, strict=True) if c == 0)
                self.failures.append(
                    f"LEAK {group} [{sample.kind}] {surface!r} in {leaves[i][1][:300]!r}"
                )
            elif min(coverage) < 0.5:
                self.failures.append(f"PART {group} [{sample.kind}] {surface!r}")
        for i, (original, shown, is_key, spans) in enumerate(leaves):
            if is_key:
                self.keys += 1
                if spans and original not in planted_surfaces:
                    self.keys_renamed += 1
                    self.failures.append(f"KEY [{sample.kind}] {original!r} -> {shown!r}")
            for start, end, entity in spans:
                group = group_of(entity)
                self.predicted[group] += 1
                if any(j == i and s < end and start < e for j, s, e in positives):
                    self.correct[group] += 1
                else:
                    self.failures.append(
                        f"FP <{entity}> [{sample.kind}] {original[start:end][:80]!r}"
                        f" in {original[:160]!r}"
                    )
        for kind, surface in dict.fromkeys(sample.lookalikes):
            places = [
                (i, start, start + len(surface))
                for i, (original, _, _, _) in enumerate(leaves)
                for start in occurrences(original, surface)
            ]
            if not places:
                continue
            self.lookalikes += 1
            if any(_covered(leaves[i][3], s, e) for i, s, e in places):
                self.lookalikes_masked[kind] += 1
                self.failures.append(f"LOOKALIKE {kind} [{sample.kind}] {surface[:80]!r}")
            self.lookalike_kinds[kind] += 1


def _covered(spans: list[tuple[int, int, str]], start: int, end: int) -> int:
    chars = set()
    for s, e, _ in spans:
        chars.update(range(max(s, start), min(e, end)))
    return len(chars)


def prf(found: int, gold: int, correct: int, predicted: int):
    recall = found / gold if gold else None
    precision = correct / predicted if predicted else None
    if recall is None or precision is None or precision + recall == 0:
        return precision, recall, (0.0 if recall == 0 else None)
    return precision, recall, 5 * precision * recall / (4 * precision + recall)


def fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


# -- systems ------------------------------------------------------------------------------


def airlock_system() -> Callable[[Any], Any]:
    from sanitization.engine import get_engine
    from sanitization.screening import screen

    engine = get_engine()
    return lambda payload: screen(payload, engine=engine).masked


def before_system(ref: str) -> Callable[[Any], Any]:
    from screening_baseline import BEFORE_CONFIG, load

    package = load(ref)
    engine = package.engine.build_engine(dict(BEFORE_CONFIG))
    return lambda payload: package.screening.screen(payload, engine=engine).masked


def presidio_system(model: str) -> Callable[[Any], Any]:
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NerModelConfiguration
    from presidio_anonymizer import AnonymizerEngine

    from sanitization.engine import LANGUAGE, OfflineSpacyNlpEngine, pin_tldextract

    pin_tldextract()  # offline, as in Airlock; detection is unchanged
    nlp = OfflineSpacyNlpEngine(model, NerModelConfiguration())
    nlp.load()
    registry = RecognizerRegistry(supported_languages=[LANGUAGE])
    registry.load_predefined_recognizers(languages=[LANGUAGE], nlp_engine=nlp)
    analyzer = AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=[LANGUAGE])
    anonymizer = AnonymizerEngine()
    cache: dict[str, str] = {}

    def text(value: str) -> str:
        if value not in cache:
            results = analyzer.analyze(value, LANGUAGE)
            cache[value] = anonymizer.anonymize(text=value, analyzer_results=results).text
        return cache[value]

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: walk(child) for key, child in value.items()}
        if isinstance(value, list):
            return [walk(child) for child in value]
        if isinstance(value, str):
            return text(value)
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**7:
            shown = text(str(value))
            return value if shown == str(value) else shown
        return value

    return walk


# -- report -------------------------------------------------------------------------------


def report(scores: dict[str, Score], data: list[Sample]) -> None:
    names = list(scores)
    planted = sum(len(dict.fromkeys(s.planted)) for s in data)
    lookalikes = sum(len(dict.fromkeys(s.lookalikes)) for s in data)
    kinds = Counter(s.kind for s in data)
    print(
        f"{len(data)} payloads ({len(kinds)} kinds), {planted} planted values, "
        f"{lookalikes} look-alikes"
    )
    header = f"{'group':14} {'gold':>5}"
    for name in names:
        header += f" | {name + ' R':>11} {'P':>5} {'F2':>5} {'leaks':>6}"
    print(header)
    first = scores[names[0]]
    for group in [*GROUPS, "all"]:
        row = ""
        gold_n = 0
        for name in names:
            s = scores[name]
            if group == "all":
                found, gold = sum(s.found.values()), sum(s.gold.values())
                correct, predicted = sum(s.correct.values()), sum(s.predicted.values())
                leaked = sum(s.leaked.values())
            else:
                found, gold = s.found[group], s.gold[group]
                correct, predicted = s.correct[group], s.predicted[group]
                leaked = s.leaked[group]
            gold_n = gold or gold_n
            p, r, f2 = prf(found, gold, correct, predicted)
            share = f"{100 * leaked / gold:.1f}%" if gold else "-"
            row += f" | {fmt(r):>11} {fmt(p):>5} {fmt(f2):>5} {share:>6}"
        print(f"{group:14} {gold_n:5}{row}")
    for name in names:
        s = scores[name]
        other = s.predicted["OTHER"]
        masked = sum(s.lookalikes_masked.values())
        print(
            f"{name}: leaks {sum(s.leaked.values())}/{sum(s.gold.values())}"
            f" ({100 * sum(s.leaked.values()) / max(1, sum(s.gold.values())):.1f}%);"
            f" look-alikes masked {masked}/{s.lookalikes}"
            f" ({100 * masked / max(1, s.lookalikes):.1f}%);"
            f" keys renamed {s.keys_renamed}/{s.keys}; other-type masks {other};"
            f" incomplete {s.incomplete}; {s.seconds:.1f} s"
            f" ({len(data) / max(s.seconds, 1e-9):.1f} payloads/s)"
        )
        worst = ", ".join(f"{k} {n}" for k, n in s.lookalikes_masked.most_common(6))
        if worst:
            print(f"    look-alikes masked by kind: {worst}")
        by_kind = ", ".join(
            f"{k} {100 * s.leaks_by_kind[k] / max(1, s.planted_by_kind[k]):.0f}%"
            for k in sorted(kinds)
            if s.planted_by_kind[k]
        )
        print(f"    leaks by payload kind: {by_kind}")
    if first.unplaced:
        print(f"(generator: {first.unplaced} planted values not found verbatim; not scored)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--payloads", type=int, default=600)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--before", default=None, help="git revision of 'before'")
    parser.add_argument("--systems", default="airlock,before,presidio")
    parser.add_argument("--dump", default=None, help="write every failure to this file")
    args = parser.parse_args()

    from django.conf import settings

    data = samples(args.payloads, args.seed)
    systems: dict[str, Callable[[Any], Any]] = {}
    for name in args.systems.split(","):
        if name == "airlock":
            systems[name] = airlock_system()
        elif name == "before":
            from screening_baseline import BEFORE

            systems[name] = before_system(args.before or BEFORE)
        elif name == "presidio":
            systems[name] = presidio_system(settings.SCREENING["NLP_MODEL"])
        else:
            parser.error(f"unknown system {name!r}")
    scores: dict[str, Score] = {}
    for name, run in systems.items():
        score = Score()
        run(data[0].payload)  # warm up
        started = time.perf_counter()
        masked = [run(sample.payload) for sample in data]
        score.seconds = time.perf_counter() - started
        for sample, copy in zip(data, masked, strict=True):
            score.add(sample, copy)
        scores[name] = score
    report(scores, data)
    if args.dump:
        with open(args.dump, "w") as out:
            for name, score in scores.items():
                out.write(f"== {name}\n")
                failures = defaultdict(int)
                for line in score.failures:
                    failures[line] += 1
                for line, n in failures.items():
                    out.write(f"{line}{f'  (x{n})' if n > 1 else ''}\n")


if __name__ == "__main__":
    main()
