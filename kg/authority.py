"""The authority file: entities, aliases, offices and tenures, loaded from linking/ at run time.

Nothing about a particular person, place or office is written in code; this module only knows the shape
of the data (see linking/README.md) and builds the indexes the linker needs.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, SKOS

from .cachefiles import read_pickle, write_pickle
from .errors import SourceError
from .namespaces import ORG, SCHEMA, WD, WKG

TYPE_OF_CLASS = {
    SCHEMA.Person: "PERSON",
    SCHEMA.Place: "PLACE",
    SCHEMA.Event: "EVENT",
    WKG.MilitaryOperation: "OPERATION",
    SCHEMA.Organization: "ORG",
}
CLASS_OF_TYPE = {v: k for k, v in TYPE_OF_CLASS.items()}

# How much an alias of each kind says about its entity, before any other evidence.
ALIAS_WEIGHT = {"pref": 1.0, "alt": 0.95, "code": 0.95, "derived": 0.85, "hidden": 0.85}


@functools.lru_cache(maxsize=1 << 16)
def normalise(text: str) -> str:
    """The key aliases are indexed under: no accents, no case, no dots, one space, no possessive.
    (Cached: the linker asks for the same few thousand names tens of thousands of times a build.)"""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("ł", "l").replace("Ł", "L").replace("’", "'")
    text = re.sub(r"'s$", "", text.strip())
    text = text.lower().replace(".", " ").replace("-", " ").replace('"', " ")
    return re.sub(r"\s+", " ", text).strip()


@dataclass
class Entity:
    iri: str
    type: str
    label: str
    alt_labels: list[str] = field(default_factory=list)
    hidden_labels: list[str] = field(default_factory=list)
    code_names: list[str] = field(default_factory=list)
    title_cues: list[str] = field(default_factory=list)
    wikipedia: str | None = None
    wikidata: str | None = None
    born: date | None = None
    died: date | None = None
    start: date | None = None
    end: date | None = None
    associated: set[str] = field(default_factory=set)
    description: str = ""
    reviewed: bool = True

    @property
    def slug(self) -> str:
        return self.iri.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Alias:
    iri: str
    text: str
    kind: str  # pref, alt, hidden, code, derived


@dataclass
class Post:
    iri: str
    label: str
    country: str | None
    wikipedia: str | None = None
    wikidata: str | None = None


@dataclass
class Tenure:
    iri: str
    person: str
    post: str
    start: date | None
    end: date | None

    def holds_on(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day < self.end)


@dataclass
class RoleRule:
    """A role phrase ("the President", "your Ambassador") and the office it denotes."""

    phrase: str
    determiners: tuple[str, ...]
    relative_to: str  # "" or "recipient" / "sender": whose country decides
    country: str  # "*" or a country slug the relative party belongs to
    post: str  # office IRI, or "recipient" for the vocative "Mr President"


def _date(value, end: bool = False) -> date | None:
    """xsd:date, or the coarser xsd:gYearMonth / xsd:gYear of a tenure known only to the month or year:
    a start is read as the first day of the period, an end as the last, so the tenure is never too short."""
    if value is None:
        return None
    text = str(value).strip()
    try:
        if re.fullmatch(r"\d{4}", text):
            return date(int(text), 12, 31) if end else date(int(text), 1, 1)
        if re.fullmatch(r"\d{4}-\d{2}", text):
            y, m = int(text[:4]), int(text[5:])
            if end:
                return (date(y + (m == 12), m % 12 + 1, 1) - timedelta(days=1))
            return date(y, m, 1)
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


class Authority:
    """Entities, aliases, posts and tenures, with the look-ups the linker asks for."""

    def __init__(self, graph: Graph, roles: list[RoleRule], files: list[Path]):
        self._graph: Graph | None = graph
        self.files = files
        self.roles = roles
        self.entities: dict[str, Entity] = {}
        self.posts: dict[str, Post] = {}
        self.tenures: list[Tenure] = []
        self._load()

    @property
    def graph(self) -> Graph:
        """The authority's triples. An Authority read back from the on-disk cache parses them again only
        when asked (to write the authority graph; a rebuild takes that graph from the cache)."""
        if self._graph is None:
            self._graph = _parse_files(self.files)
        return self._graph

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_graph": None}

    # -- loading -------------------------------------------------------------------------------------
    def _load(self) -> None:
        g = self.graph
        for cls, kind in TYPE_OF_CLASS.items():
            for s in g.subjects(RDF.type, cls):
                iri = str(s)
                if iri in self.entities:
                    continue
                self.entities[iri] = self._entity(s, kind)
        for s in g.subjects(RDF.type, ORG.Post):
            wd = next((str(o) for o in g.objects(s, OWL.sameAs) if str(o).startswith(str(WD))), None)
            self.posts[str(s)] = Post(
                iri=str(s),
                label=str(g.value(s, SKOS.prefLabel) or s),
                country=str(g.value(s, WKG.country)) if g.value(s, WKG.country) else None,
                wikipedia=str(g.value(s, WKG.wikipediaTitle)) if g.value(s, WKG.wikipediaTitle) else None,
                wikidata=wd.rsplit("/", 1)[-1] if wd else None,
            )
        for s in g.subjects(RDF.type, ORG.Membership):
            person, post = g.value(s, ORG.member), g.value(s, ORG.role)
            if person is None or post is None:
                continue
            self.tenures.append(
                Tenure(str(s), str(person), str(post), _date(g.value(s, SCHEMA.startDate)), _date(g.value(s, SCHEMA.endDate), end=True))
            )
        self.tenures.sort(key=lambda t: (t.post, t.start or date.min, t.person))

    def _entity(self, s: URIRef, kind: str) -> Entity:
        g = self.graph

        def texts(p) -> list[str]:
            return sorted({str(o) for o in g.objects(s, p) if isinstance(o, Literal)})

        wd = next((str(o) for o in g.objects(s, OWL.sameAs) if str(o).startswith(str(WD))), None)
        return Entity(
            iri=str(s),
            type=kind,
            label=str(g.value(s, SKOS.prefLabel) or s.rsplit("/", 1)[-1]),
            alt_labels=texts(SKOS.altLabel),
            hidden_labels=texts(SKOS.hiddenLabel),
            code_names=texts(WKG.codeName),
            title_cues=texts(WKG.titleCue),
            wikipedia=str(g.value(s, WKG.wikipediaTitle)) if g.value(s, WKG.wikipediaTitle) else None,
            wikidata=wd.rsplit("/", 1)[-1] if wd else None,
            born=_date(g.value(s, SCHEMA.birthDate)),
            died=_date(g.value(s, SCHEMA.deathDate), end=True),
            start=_date(g.value(s, SCHEMA.startDate) or g.value(s, SCHEMA.foundingDate)),
            end=_date(g.value(s, SCHEMA.endDate) or g.value(s, SCHEMA.dissolutionDate), end=True),
            associated={str(o) for o in g.objects(s, WKG.associatedWith)},
            description=str(g.value(s, SCHEMA.description) or ""),
        )

    # -- aliases -------------------------------------------------------------------------------------
    @cached_property
    def aliases(self) -> list[Alias]:
        out: set[Alias] = set()
        for e in self.entities.values():
            out.add(Alias(e.iri, e.label, "pref"))
            for a in e.alt_labels:
                out.add(Alias(e.iri, a, "alt"))
            for a in e.hidden_labels:
                out.add(Alias(e.iri, a, "hidden"))
            for a in e.code_names:
                out.add(Alias(e.iri, a, "code"))
            if e.type == "PERSON":
                for a in _derived_person_aliases(e.label):
                    out.add(Alias(e.iri, a, "derived"))
        return sorted(out, key=lambda a: (a.iri, a.kind, a.text))

    @cached_property
    def alias_index(self) -> dict[str, list[Alias]]:
        index: dict[str, list[Alias]] = defaultdict(list)
        for a in self.aliases:
            key = normalise(a.text)
            if key:
                index[key].append(a)
        return dict(index)

    @cached_property
    def alias_keys(self) -> list[str]:
        return sorted(self.alias_index)

    # -- offices -------------------------------------------------------------------------------------
    def holders(self, post: str, day: date | None) -> list[Tenure]:
        if day is None:
            return []
        return [t for t in self.tenures if t.post == post and t.holds_on(day)]

    def offices_of(self, person: str, day: date | None = None) -> list[Tenure]:
        return [t for t in self.tenures if t.person == person and (day is None or t.holds_on(day))]

    def country_of(self, person: str, day: date | None) -> str | None:
        """The country a person served on a date, from the offices held (so "your Ambassador" can be resolved)."""
        for t in self.offices_of(person, day) or self.offices_of(person):
            post = self.posts.get(t.post)
            if post and post.country:
                return post.country
        return None

    def _labels(self) -> dict[str, Entity]:
        """Normalised preferred labels and Wikipedia titles -> the first entity (in load order) that has
        it: find_by_label runs for every sender and recipient, and a scan of the authority costs ms."""
        if getattr(self, "_label_index", None) is None:
            index: dict[str, Entity] = {}
            for e in self.entities.values():
                index.setdefault(normalise(e.label), e)
                if e.wikipedia:
                    index.setdefault(normalise(e.wikipedia), e)
            self._label_index = index
        return self._label_index

    def find_by_label(self, name: str) -> Entity | None:
        """An entity whose preferred label, alternative label or Wikipedia title is exactly `name`."""
        key = normalise(name)
        e = self._labels().get(key)
        if e is not None:
            return e
        hits = {a.iri for a in self.alias_index.get(key, []) if a.kind in ("pref", "alt")}
        if len(hits) == 1:
            return self.entities[hits.pop()]
        return None


def _derived_person_aliases(label: str) -> list[str]:
    """Surname and initials forms of a person's preferred label: "Franklin D. Roosevelt" -> "Roosevelt",
    "F. D. Roosevelt", "F. Roosevelt". Labels that are not "given names + surname" ("Peter II of
    Yugoslavia", "Walter Guinness, 1st Baron Moyne") give nothing: their surnames are curated by hand."""
    if "," in label or "(" in label or re.search(r"\b(of|the|de|von|van|II|III|IV|VI|VII)\b", label):
        return []
    parts = [p for p in re.split(r"\s+", label) if p]
    if len(parts) < 2 or not all(p[0].isupper() for p in parts):
        return []
    surname = parts[-1]
    initials = [p[0] + "." for p in parts[:-1] if p[0].isalpha()]
    return [surname, " ".join(initials + [surname]), f"{initials[0]} {surname}"] if initials else [surname]


def load_roles(path: Path) -> list[RoleRule]:
    rules = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader((line for line in fh if not line.startswith("#")), delimiter="\t"):
            rules.append(
                RoleRule(
                    phrase=row["phrase"].strip(),
                    determiners=tuple(d.strip() for d in row["determiners"].split(",") if d.strip()),
                    relative_to=row["relative_to"].strip(),
                    country=row["country"].strip() or "*",
                    post=row["post"].strip(),
                )
            )
    return rules


_LOADED: dict[tuple, Authority] = {}


def load_authority(directory: Path, cache: Path | None = None) -> Authority:
    """Parse every Turtle file under linking/authority/ and the role table.

    The result is kept per process and keyed by the files' contents: a build needs the authority twice
    (the pipeline, the graph); an edited file is a new key. With `cache` (a build's cache folder) it is
    also kept on disk, pickled under a hash of those contents and of this module's code: reading it back
    takes a tenth of the parse, which is a third of a one-document rebuild's time outside the model."""
    files = sorted((directory / "authority").glob("*.ttl"))
    roles_file = directory / "roles.tsv"
    key = tuple((str(f), f.read_bytes()) for f in [*files, roles_file] if f.exists())
    if key not in _LOADED:
        _LOADED.clear()  # one authority at a time: an old one is never asked for again
        found = _from_cache(cache, key) if cache else None
        if found is None:
            found = _parse_authority(directory, files)
            if cache:
                write_pickle(_cache_file(cache, key), found, "authority-*.pickle")
        _LOADED[key] = found
    return _LOADED[key]


def _cache_file(cache: Path, key: tuple) -> Path:
    h = hashlib.sha256(Path(__file__).read_bytes())
    for name, data in key:
        h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return cache / f"authority-{h.hexdigest()[:24]}.pickle"


def _from_cache(cache: Path, key: tuple) -> Authority | None:
    found = read_pickle(_cache_file(cache, key))
    return found if isinstance(found, Authority) else None


def _parse_authority(directory: Path, files: list[Path]) -> Authority:
    roles_file = directory / "roles.tsv"
    roles = load_roles(roles_file) if roles_file.exists() else []
    return Authority(_parse_files(files), roles, files)


def _parse_files(files: list[Path]) -> Graph:
    g = Graph()
    for f in files:
        try:
            _parse_turtle(f, g)
        except (SyntaxError, ValueError, OSError) as exc:
            raise SourceError(f, f"the authority file does not parse as Turtle: {exc}") from None
    return g


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def _parse_turtle(path: Path, g: Graph) -> None:
    """Add the triples of a Turtle file to `g`. Oxigraph's parser, then rdflib terms: half the time of
    rdflib's own Turtle parser, and the errors name the line and column."""
    bnodes: dict[str, BNode] = {}

    def term(t: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> URIRef | BNode | Literal:
        if isinstance(t, ox.NamedNode):
            return URIRef(t.value)
        if isinstance(t, ox.BlankNode):
            return bnodes.setdefault(t.value, BNode())
        if isinstance(t, ox.Literal):
            if t.language:
                return Literal(t.value, lang=t.language)
            dt = t.datatype.value
            return Literal(t.value) if dt == _XSD_STRING else Literal(t.value, datatype=URIRef(dt))
        raise ValueError(f"RDF-star triple terms are not supported: {t}")

    add = g.add
    for tr in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
        add((term(tr.subject), term(tr.predicate), term(tr.object)))

