"""The entity ruler's phrase patterns, tokenized once and kept in the build cache.

`EntityRuler.add_patterns` makes a Doc of each of the ~5,400 phrase patterns (the authority's aliases
and the role phrases): the tokenizer, and a lexeme with all its attributes for every new word. That is
a fifth of a second each time the pipeline starts, a quarter of a rebuild after a one-document edit.
The PhraseMatcher matches on ORTH only, and what it keeps of a phrase is the tuple of its tokens' ORTH
hashes, which depends on the text and the model's tokenizer alone. So the tuples are computed once and
pickled under a key of everything they depend on (the pattern sources, the code that makes them, the
model, spaCy's version), and later starts hand them straight to `PhraseMatcher.add`, which takes such
tuples (spaCy itself does so when it unpickles a PhraseMatcher).

The ruler ends up as `add_patterns` leaves it: the same matcher entries added in the same order, the
same entity ids, and `ruler.patterns` (hence `to_disk`/`to_bytes`) lists every phrase pattern.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.pipeline import EntityRuler

from .cachefiles import read_pickle, write_pickle

# (label, text, entity id or None, ORTH hashes of the text's tokens)
Phrase = tuple[str, str, str | None, tuple[int, ...]]
PREFIX = "ruler-"


@dataclass(frozen=True, slots=True)
class PhraseText:
    """Stands for a pattern's Doc in `EntityRuler.phrase_patterns`: the ruler only ever reads its
    `.text` (for `patterns`, which its serialisation writes)."""

    text: str


def cache_key(nlp: Language, inputs: Iterable[Path]) -> str:
    """What the tuples depend on: the files the patterns are made from and the code that makes them
    (`inputs`), this module, the model (its tokenizer) and spaCy."""
    h = hashlib.sha256(f"{spacy.__version__}\0{nlp.meta.get('name')}\0{nlp.meta.get('version')}".encode())
    for path in [Path(__file__), *inputs]:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            data = b"\0missing"
        h.update(str(path.name).encode() + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest()[:24]


def add_patterns(nlp: Language, ruler: EntityRuler, make_patterns: Callable[[], list[dict]], key: str,
                 cache: Path | None) -> None:
    """Add `make_patterns()` to `ruler`, from `cache` when it holds the tokenized patterns of `key`
    (then the patterns are not even made)."""
    found = _read(cache / f"{PREFIX}{key}.pickle") if cache else None
    if found is None:
        found = tokenize(nlp, make_patterns())
        if cache:
            write_pickle(cache / f"{PREFIX}{key}.pickle", found, f"{PREFIX}*.pickle")
    token_patterns, phrases = found
    if token_patterns:
        ruler.add_patterns(token_patterns)
    add_phrases(ruler, phrases)


def tokenize(nlp: Language, patterns: list[dict]) -> tuple[list[dict], list[Phrase]]:
    """(token patterns, phrase patterns with their ORTH tuples), in the order of `patterns`. The
    tokenizer alone, as `add_patterns` has it: the ruler's own phrase matching uses ORTH only."""
    token_patterns = [p for p in patterns if not isinstance(p["pattern"], str)]
    texts = [p for p in patterns if isinstance(p["pattern"], str)]
    docs = nlp.tokenizer.pipe([p["pattern"] for p in texts])
    phrases = [(p["label"], p["pattern"], p.get("id"), tuple(t.orth for t in doc)) for p, doc in zip(texts, docs)]
    return token_patterns, phrases


def add_phrases(ruler: EntityRuler, phrases: list[Phrase]) -> None:
    """What `EntityRuler.add_patterns` does with a phrase pattern, given its ORTH tuple for its Doc."""
    for label, text, ent_id, orths in phrases:
        key = label
        if ent_id:
            key = ruler._create_label(label, ent_id)
            ruler._ent_ids[ruler.matcher._normalize_key(key)] = (label, ent_id)
        ruler.phrase_patterns[key].append(PhraseText(text))
        ruler.phrase_matcher.add(key, [orths])


def _read(path: Path) -> tuple[list[dict], list[Phrase]] | None:
    found = read_pickle(path)
    if not (isinstance(found, tuple) and len(found) == 2 and all(isinstance(x, list) for x in found)):
        return None
    return found
