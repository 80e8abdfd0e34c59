"""Detection quality of Airlock's screening against Presidio's defaults, on the same data.

Data, made offline and seeded:
- personal data in sentences from presidio-evaluator's Faker-based generator
  (``pip install --no-deps presidio-evaluator pandas xmltodict``; its WikiData
  hospital download is replaced by its built-in list, so nothing is fetched);
- credentials in context, and look-alikes, from ``benchmarks/secrets_corpus.py``.

Two configurations analyze every text:
- ``airlock``: the engine Airlock runs (its recognizers, threshold, ignored entities);
- ``presidio``: Presidio's default recognizers, default threshold (0), same spaCy model.

A prediction counts when it overlaps a labeled span of the same entity; for
credentials any credential type counts (masking is what matters, and one token is
often both, say, a GitHub token and a ``token=...`` assignment). Printed per entity:
precision, recall and F2 (recall weighted: a missed secret costs more than a
needless mask).

    .venv/bin/python benchmarks/sanitizer_quality_sentences.py [--sentences 1500] [--secrets 1000]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "airlock.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

import logging  # noqa: E402

logging.disable(logging.WARNING)

from presidio_analyzer import AnalyzerEngine, RecognizerRegistry  # noqa: E402
from presidio_analyzer.nlp_engine import NerModelConfiguration  # noqa: E402
from secrets_corpus import GENERATORS, samples  # noqa: E402

from sanitization.engine import (  # noqa: E402
    LANGUAGE,
    OfflineSpacyNlpEngine,
    build_engine,
    pin_tldextract,
)

SECRET_TYPES = set(GENERATORS) | {
    "AWS_SECRET_KEY",
    "CONNECTION_PASSWORD",
    "SECRET_ASSIGNMENT",
    "SECRET",
}
# presidio-evaluator's labels -> the entity names the analyzers use.
GOLD_MAP = {"GPE": "LOCATION", "CREDIT_CARD": "CREDIT_CARD"}
REPORTED = [
    "PERSON",
    "LOCATION",
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "US_SSN",
    "IBAN_CODE",
    "IP_ADDRESS",
    *sorted(GENERATORS),
    "CONNECTION_PASSWORD",
    "SECRET_ASSIGNMENT",
]


def family(entity: str) -> str:
    return "SECRET" if entity in SECRET_TYPES else entity


def faker_sentences(n: int, seed: int) -> list[tuple[str, list[tuple[str, int, int]]]]:
    from presidio_evaluator.data_generator import PresidioSentenceFaker
    from presidio_evaluator.data_generator.faker_extensions import providers

    # Its hospital names come from WikiData unless a file is given: use its own list.
    providers.HospitalProvider.load_wiki_hospitals = lambda self: self.default_list  # type: ignore[method-assign]
    random.seed(seed)
    faker = PresidioSentenceFaker("en_US", lower_case_ratio=0.05, random_seed=seed)
    out = []
    for sample in faker.generate_new_fake_sentences(n):
        spans = [
            (GOLD_MAP.get(s.entity_type, s.entity_type), s.start_position, s.end_position)
            for s in sample.spans
        ]
        out.append((sample.full_text, spans))
    return out


def presidio_defaults(model: str) -> AnalyzerEngine:
    pin_tldextract()  # offline, as in Airlock; detection is unchanged
    nlp = OfflineSpacyNlpEngine(model, NerModelConfiguration())
    nlp.load()
    registry = RecognizerRegistry(supported_languages=[LANGUAGE])
    registry.load_predefined_recognizers(languages=[LANGUAGE], nlp_engine=nlp)
    return AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=[LANGUAGE])


def score(analyze, corpus) -> tuple[dict[str, Counter], float]:
    counts: dict[str, Counter] = {}
    started = time.perf_counter()
    for text, gold in corpus:
        predicted = analyze(text)
        for entity, start, end in gold:
            c = counts.setdefault(entity, Counter())
            c["gold"] += 1
            if any(
                family(p.entity_type) == family(entity) and p.start < end and start < p.end
                for p in predicted
            ):
                c["found"] += 1
        for p in predicted:
            c = counts.setdefault(p.entity_type, Counter())
            c["predicted"] += 1
            if any(
                family(p.entity_type) == family(entity) and p.start < end and start < p.end
                for entity, start, end in gold
            ):
                c["correct"] += 1
    return counts, time.perf_counter() - started


def prf(c: Counter) -> tuple[float | None, float | None, float | None]:
    precision = c["correct"] / c["predicted"] if c["predicted"] else None
    recall = c["found"] / c["gold"] if c["gold"] else None
    if precision is None or recall is None or precision + recall == 0:
        return precision, recall, (0.0 if recall == 0 else None)
    return precision, recall, 5 * precision * recall / (4 * precision + recall)


def fmt(value: float | None) -> str:
    return "   -" if value is None else f"{value:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sentences", type=int, default=1500)
    parser.add_argument("--secrets", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    corpus = faker_sentences(args.sentences, args.seed) + samples(args.secrets, args.seed)
    airlock = build_engine()
    baseline = presidio_defaults(airlock.model_name)

    def run_airlock(text):
        return airlock.analyzer.analyze(
            text, LANGUAGE, entities=airlock.entities, score_threshold=airlock.score_threshold
        )

    def run_presidio(text):
        return baseline.analyze(text, LANGUAGE)

    ours, ours_s = score(run_airlock, corpus)
    theirs, theirs_s = score(run_presidio, corpus)
    gold_total = sum(len(g) for _, g in corpus)
    print(
        f"corpus: {len(corpus)} texts ({args.sentences} Faker sentences, {args.secrets} "
        f"credential samples), {gold_total} labeled spans, model {airlock.model_name}"
    )
    print(f"{'entity':22} {'gold':>5} | {'airlock P    R   F2':>20} | {'presidio P    R   F2':>21}")
    for entity in REPORTED:
        a, b = ours.get(entity, Counter()), theirs.get(entity, Counter())
        gold = a["gold"] or b["gold"]
        if not gold and not a["predicted"] and not b["predicted"]:
            continue
        pa, ra, fa = prf(a)
        pb, rb, fb = prf(b)
        print(
            f"{entity:22} {gold:5} | {fmt(pa):>6} {fmt(ra):>4} {fmt(fa):>4} |"
            f" {fmt(pb):>6} {fmt(rb):>4} {fmt(fb):>4}"
        )
    for name, counts in (("airlock", ours), ("presidio", theirs)):
        total = Counter()
        for entity, c in counts.items():
            if entity in REPORTED or c["gold"]:
                total.update(c)
        p, r, f2 = prf(total)
        noise = sum(c["predicted"] - c["correct"] for e, c in counts.items() if e not in REPORTED)
        print(
            f"{name:9} all labeled types: P {fmt(p)} R {fmt(r)} F2 {fmt(f2)};"
            f" unlabeled-type predictions (noise) {noise}"
        )
    print(
        f"time: airlock {ours_s:.1f} s, presidio defaults {theirs_s:.1f} s "
        f"({len(corpus) / ours_s:.0f} vs {len(corpus) / theirs_s:.0f} texts/s)"
    )


if __name__ == "__main__":
    main()
