"""The served build, read-only: one Oxigraph handle in the front process and the basics every page needs.

The mapping between request paths, our IRIs and the published IRIs (--base) lives here and only here, so
pages, RDF descriptions and VoID agree on it. Pages are answered from this handle, not from the worker
pool: their queries are ours, bounded and cached, so they need neither the pool nor its timeout.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import os
import re
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import pyoxigraph as ox

from ..errors import KGError
from ..namespaces import DEFAULT_BASE, PREFIXES, sparql_prologue, ucschar
from ..store import mark_served
from .paths import DEFAULT_SEEDS, ONTOLOGY, QUERIES

RESOURCE_PREFIXES = ("id/", "message/", "source/", "annotation/", "graph/", "run/", "software/", "model/", "ontology")

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
SCHEMA = "https://schema.org/"
OWL_SAMEAS = "http://www.w3.org/2002/07/owl#sameAs"
DCT = "http://purl.org/dc/terms/"
ORG = "http://www.w3.org/ns/org#"
AS_REPLY = "https://www.w3.org/ns/activitystreams#inReplyTo"
WKG = DEFAULT_BASE + "ontology#"


def py(term: Any) -> Any:
    """A term as a plain JSON-able value: IRIs and strings as str, numbers and booleans as such."""
    if term is None:
        return None
    if isinstance(term, ox.Literal):
        dt = term.datatype.value if term.datatype else ""
        try:
            if dt.endswith("#integer") or dt.endswith("#int") or dt.endswith("#long"):
                return int(term.value)
            if dt.endswith("#decimal") or dt.endswith("#double") or dt.endswith("#float"):
                return float(term.value)
            if dt.endswith("#boolean"):
                return term.value == "true"
        except ValueError:
            return term.value
        return term.value
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return term.value


def iri_ref(iri: str) -> str:
    """`<iri>` for a query text, validated by Oxigraph: a request path cannot inject SPARQL through it."""
    return str(ox.NamedNode(iri))


def local_name(iri: str) -> str:
    return re.split(r"[/#]", iri.rstrip("/"))[-1]


_ESCAPES = re.compile(r"(?:%[0-9A-Fa-f]{2})+")


def iri_from_uri(path: str) -> str:
    """The IRI a request path stands for (RFC 3987 3.2): escapes that spell non-ASCII UTF-8 characters
    are decoded, because clients encode those characters of an IRI; escapes of ASCII characters stay,
    because the IRI holds them as escapes ("src/my%20letter" is not "src/my letter", which is no IRI)."""

    def decode(m: re.Match[str]) -> str:
        escapes = m.group(0)
        raw = bytes.fromhex(escapes.replace("%", ""))
        out, i = [], 0
        while i < len(raw):
            lead = raw[i]
            n = 2 if 0xC2 <= lead <= 0xDF else 3 if 0xE0 <= lead <= 0xEF else 4 if 0xF0 <= lead <= 0xF4 else 1
            try:
                char = raw[i : i + n].decode("utf-8") if n > 1 else ""
            except UnicodeDecodeError:
                char = ""
            if char and ucschar(char):
                out.append(char)
                i += n
            else:
                out.append(escapes[3 * i : 3 * i + 3])
                i += 1
        return "".join(out)

    return _ESCAPES.sub(decode, path)


class Site:
    """The served build: its store, its bases, and the labels and statements every page reads with SPARQL.
    The store does not change while it is served (a new build is a new directory; restart to serve it), so
    answers are cached; the served directory is marked so that new builds leave it in place."""

    def __init__(self, link: Path, public_base: str | None, seeds: Path | None) -> None:
        self.dir = link.resolve()
        location = self.dir / "oxigraph"
        if not location.exists():
            raise KGError(f"{link}: no built graph here; run `kg build` first (or pass --store DIR)")
        self.location = location
        self.store = ox.Store.read_only(str(location))
        # later builds must not prune the directory this process reads; the marker goes with the process
        marker = mark_served(self.dir)
        if marker is not None:
            atexit.register(marker.unlink, missing_ok=True)
        info_file = self.dir / "build.json"
        self.build = json.loads(info_file.read_text(encoding="utf-8")) if info_file.exists() else {}
        self.graph_base = self._detect_base()
        self.public_base = public_base or self.graph_base
        path = urlsplit(self.public_base).path if public_base else "/"
        self.link_prefix = path if path.endswith("/") else path + "/"
        self.seeds = self._seeds_dir(seeds)
        self._texts: dict[str, tuple[str | None, str]] = {}
        self._texts_lock = threading.Lock()
        self.queries = load_queries(QUERIES)
        self.ontology = self._load_ontology()

    def _load_ontology(self) -> list[ox.Triple]:
        if not ONTOLOGY.is_file():
            return []
        return [q.triple for q in ox.parse(ONTOLOGY.read_bytes(), format=ox.RdfFormat.TURTLE)]

    # -- basics -------------------------------------------------------------------------------------

    def _detect_base(self) -> str:
        """The base the graph was built with, read off a message IRI (…/message/…)."""
        for row in self.select("SELECT ?m WHERE { ?m a schema:Message } LIMIT 1"):
            iri = row["m"]
            if "/message/" in iri:
                return iri[: iri.index("/message/") + 1]
        return DEFAULT_BASE

    def _seeds_dir(self, seeds: Path | None) -> Path:
        """Where the source texts are: --seeds, $WARTIME_KG_SEEDS, a `seeds` entry of build.json, or seeds/."""
        for cand in (seeds, os.environ.get("WARTIME_KG_SEEDS"), self.build.get("seeds")):
            if cand:
                return Path(cand)
        return DEFAULT_SEEDS

    def select(self, query: str) -> list[dict[str, Any]]:
        res = self.store.query(sparql_prologue() + query, use_default_graph_as_union=True)
        names = [v.value for v in res.variables]
        return [{n: py(row[n]) for n in names} for row in res]

    @functools.lru_cache(maxsize=8192)  # noqa: B019
    def exists(self, iri: str) -> bool:
        ref = iri_ref(iri)
        return bool(self.store.query(f"ASK {{ {{ {ref} ?p ?o }} UNION {{ ?s ?p {ref} }} UNION {{ GRAPH {ref} {{ ?s ?p ?o }} }} }}",
                                     use_default_graph_as_union=True))

    def href(self, iri: str | None) -> str:
        """Where a link to `iri` goes: a path of this server for our own IRIs, the IRI itself otherwise."""
        if not iri:
            return ""
        if iri.startswith(self.graph_base):
            rest = iri[len(self.graph_base):]
            frag = ""
            if "#" in rest:
                rest, frag = rest.split("#", 1)
                frag = "#" + frag
            # the URI form of the IRI (RFC 3987 3.1): non-ASCII characters percent-encoded, the IRI's own
            # escapes ("%20" in a source named after a file with spaces) kept as they are
            return self.link_prefix + quote(rest, safe="/:@!$&'()*+,;=-._~%") + frag
        return iri

    def public(self, iri: str | None) -> str:
        """The published form of one of our IRIs (the --base rewrite)."""
        if iri and self.public_base != self.graph_base and iri.startswith(self.graph_base):
            return self.public_base + iri[len(self.graph_base):]
        return iri or ""

    def rebase(self, obj: Any) -> Any:
        """`public` over every string of a JSON-able structure."""
        if self.public_base == self.graph_base:
            return obj
        if isinstance(obj, str):
            return self.public(obj)
        if isinstance(obj, list):
            return [self.rebase(x) for x in obj]
        if isinstance(obj, dict):
            return {k: self.rebase(v) for k, v in obj.items()}
        return obj

    def iri_for_path(self, path: str) -> str | None:
        """The IRI a request path names, or None. Dot segments are refused outright: a path never reaches the
        file system, but `/id/../x` must not quietly mean `/x` either."""
        if self.link_prefix != "/" and path.startswith(self.link_prefix):
            path = "/" + path[len(self.link_prefix):]
        rest = iri_from_uri(path.lstrip("/"))
        if not rest.startswith(RESOURCE_PREFIXES):
            return None
        segments = rest.split("/")
        plain = unquote(rest)  # refused in any spelling
        if any(unquote(s) in (".", "..") for s in segments) or "\\" in plain or "\x00" in plain:
            return None
        try:
            return ox.NamedNode(self.graph_base + rest).value
        except ValueError:
            return None

    @functools.lru_cache(maxsize=8192)  # noqa: B019 - one Site per server, lives as long as the process
    def labels_of(self, iri: str) -> str:
        return self.labels([iri]).get(iri) or local_name(iri)

    def labels(self, iris: list[str]) -> dict[str, str]:
        """Display labels: skos:prefLabel (English first), else rdfs:label, else dcterms:title."""
        iris = [i for i in dict.fromkeys(iris) if i and not i.startswith("_:")]
        out: dict[str, str] = {}
        for start in range(0, len(iris), 200):
            chunk = iris[start:start + 200]
            values = " ".join(iri_ref(i) for i in chunk)
            rows = self.select(f"""
                SELECT ?s ?l ?rank WHERE {{ VALUES ?s {{ {values} }}
                  {{ ?s skos:prefLabel ?l BIND(IF(LANG(?l) = "en", 0, 1) AS ?rank) }}
                  UNION {{ ?s rdfs:label ?l BIND(2 AS ?rank) }} UNION {{ ?s dcterms:title ?l BIND(3 AS ?rank) }} }}
                ORDER BY ?s ?rank ?l""")
            for r in rows:
                out.setdefault(r["s"], r["l"])
        return out

    def statements(self, iri: str) -> list[dict[str, Any]]:
        """Every statement about `iri` with its graph; `link` tells an IRI object from a literal."""
        ref = iri_ref(iri)
        res = self.store.query(f"SELECT ?p ?o ?g WHERE {{ GRAPH ?g {{ {ref} ?p ?o }} }} ORDER BY ?p ?o")
        return [{"p": r["p"].value, "o": py(r["o"]), "g": r["g"].value, "link": isinstance(r["o"], ox.NamedNode)} for r in res]

    def kind(self, iri: str, types: set[str]) -> str:
        if SCHEMA + "Message" in types:
            return "message"
        if SCHEMA + "CreativeWork" in types and iri.startswith(self.graph_base + "source/"):
            return "source"
        if iri.startswith(self.graph_base + "id/") and not iri.startswith(self.graph_base + "id/tenure/"):
            return "entity"
        return "resource"

    # -- source texts -------------------------------------------------------------------------------

    def source_text(self, file_name: str, sha256: str | None) -> tuple[str | None, str]:
        """The text of a source file and, when it cannot be shown, why. The file must be the one that was
        built (same SHA-256), or every offset of the graph would point at the wrong words."""
        with self._texts_lock:
            if file_name in self._texts:
                return self._texts[file_name]
        if Path(file_name).name != file_name or file_name.startswith("."):
            found: tuple[str | None, str] = (None, "the source file name is not a plain file name")
        else:
            path = self.seeds / file_name
            try:
                data = path.read_bytes()
            except OSError:
                found = (None, f"the source file {file_name} is not in {self.seeds}")
            else:
                if sha256 and hashlib.sha256(data).hexdigest() != sha256:
                    found = (None, f"{file_name} in {self.seeds} has changed since the build; rebuild to see the text")
                else:
                    found = (data.decode("utf-8", errors="replace"), "")
        with self._texts_lock:
            self._texts[file_name] = found
        return found

    # -- RDF under the published base (--base) -------------------------------------------------------

    def _rebase_triples(self, triples: list[ox.Triple]) -> list[ox.Triple]:
        if self.public_base == self.graph_base:
            return triples

        def term(t):
            if isinstance(t, ox.NamedNode) and t.value.startswith(self.graph_base):
                return ox.NamedNode(self.public(t.value))
            return t

        return [ox.Triple(term(t.subject), term(t.predicate), term(t.object)) for t in triples]

    def prefixes(self) -> dict[str, str]:
        return {p: self.public(str(ns)) for p, ns in PREFIXES.items()}


def load_queries(folder: Path) -> list[dict[str, str]]:
    """The canned queries: name, the first comment line as a title, the rest of the comments, the text."""
    out = []
    for f in sorted(folder.glob("*.rq")) if folder.is_dir() else []:
        text = f.read_text(encoding="utf-8")
        comments = []
        for line in text.splitlines():
            if not line.startswith("#"):
                break
            comments.append(line.lstrip("#").strip())
        out.append({"name": f.stem, "title": comments[0] if comments else f.stem, "description": " ".join(comments[1:]),
                    "text": text})
    return out
