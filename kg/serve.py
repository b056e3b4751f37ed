"""`kg serve`: the built store on the web, read-only, for historians (pages) and for machines (SPARQL, RDF).

Layout of one running server:

    front process (this module, stdlib ThreadingHTTPServer)
      /query            SPARQL 1.1 Protocol, answered by a pool of Oxigraph worker processes
      /id/..., /message/..., /source/..., /annotation/...
                        Cool URIs: HTML, Turtle, N-Triples, JSON-LD, RDF/XML or page JSON by content negotiation
      /, /sparql        home page, query page with the canned queries of queries/
      /.well-known/void VoID description; /dumps/graph.{nq,ttl}.gz the build's dumps

Why worker processes and not the `oxigraph serve-read-only` binary: its `--timeout-s` does not stop a running
evaluation (an ORDER BY over a cartesian product keeps a core busy for minutes after the client gave up), and
pyoxigraph's `Store.query` has no timeout at all. A query that runs in a process of its own can always be
stopped: when it overruns `--timeout` the worker is killed and replaced, and the client gets a 504 that says
so. SPARQL is still evaluated and serialised by Oxigraph itself (pyoxigraph), never by code of ours.

Pages are answered in the front process from its own read-only handle: their queries are ours, bounded, and
cached, so they need neither the pool nor its timeout. Request paths are mapped onto IRIs, never onto files:
the only files served are the fixed dumps and the files of kg/static/ listed when the server starts.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import json
import multiprocessing
import os
import queue
import re
import signal
import sys
import threading
import traceback
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pyoxigraph as ox
from jinja2 import Environment, FileSystemLoader, select_autoescape

from .errors import KGError
from .namespaces import DEFAULT_BASE, PREFIXES, sparql_prologue
from .store import safe_prefixes

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
QUERIES = HERE.parent / "queries"
# The same folder as kg.builder.SEEDS_DIR; not imported from there because kg.builder loads spaCy.
DEFAULT_SEEDS = HERE.parent / "seeds"
ONTOLOGY = HERE.parent / "ontology" / "wkg.ttl"  # the vocabulary, published at <base>ontology

MAX_QUERY_BYTES = 1 << 20
IDLE_TIMEOUT = 30  # seconds a kept-alive connection may sit idle before its thread lets it go
DESCRIBE_MENTIONS = 1000  # mentions included in an entity's RDF description
RESOURCE_PREFIXES = ("id/", "message/", "source/", "annotation/", "graph/", "run/", "software/", "model/", "ontology")

# ---------------------------------------------------------------------------------------------------
# Content negotiation
# ---------------------------------------------------------------------------------------------------

RESULTS_FORMATS: dict[str, ox.QueryResultsFormat] = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "application/xml": ox.QueryResultsFormat.XML,
    "text/xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
GRAPH_FORMATS: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/x-turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "text/plain": ox.RdfFormat.N_TRIPLES,
}
# ?format= and file-name suffixes, for people who cannot set an Accept header
FORMAT_ALIASES: dict[str, str] = {
    "json": "application/json",
    "srj": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "srx": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "ttl": "text/turtle",
    "turtle": "text/turtle",
    "nt": "application/n-triples",
    "ntriples": "application/n-triples",
    "jsonld": "application/ld+json",
    "rdf": "application/rdf+xml",
    "rdfxml": "application/rdf+xml",
    "html": "text/html",
}
# What a resource path can answer, in the server's order of preference (ties go to the first)
RESOURCE_TYPES = ["text/html", "application/xhtml+xml", "text/turtle", "application/ld+json", "application/n-triples",
                  "application/rdf+xml", "application/json", "application/x-turtle"]
SUFFIXES = {".ttl": "text/turtle", ".nt": "application/n-triples", ".jsonld": "application/ld+json",
            ".rdf": "application/rdf+xml", ".json": "application/json", ".html": "text/html"}


def parse_accept(header: str | None) -> list[tuple[str, float]]:
    """The media ranges of an Accept header with their q-values (parameters other than q are ignored)."""
    if not header or not header.strip():
        return [("*/*", 1.0)]
    out = []
    for part in header.split(","):
        bits = [b.strip() for b in part.split(";")]
        if not bits[0]:
            continue
        q = 1.0
        for b in bits[1:]:
            if b.lower().startswith("q="):
                try:
                    q = max(0.0, min(1.0, float(b[2:])))
                except ValueError:
                    q = 0.0
        out.append((bits[0].lower(), q))
    return out


def negotiate(accept: str | None, offers: list[str]) -> str | None:
    """The offer the client prefers (RFC 9110 q-values, the most specific range wins); None if it accepts none."""
    ranges = parse_accept(accept)
    best, best_q = None, 0.0
    for offer in offers:
        kind = offer.split("/")[0]
        q, specificity = 0.0, -1
        for rng, rq in ranges:
            spec = 2 if rng == offer else 1 if rng == f"{kind}/*" else 0 if rng == "*/*" else -1
            if spec > specificity:
                q, specificity = rq, spec
        if q > best_q:
            best, best_q = offer, q
    return best


# ---------------------------------------------------------------------------------------------------
# SPARQL: update detection and execution in worker processes
# ---------------------------------------------------------------------------------------------------

UPDATE_WORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}
_PROLOGUE = re.compile(r"""\s+|\#[^\n]*|(?:PREFIX\s+[^\s:]*:\s*<[^>]*>)|(?:BASE\s*<[^>]*>)""", re.IGNORECASE)


def is_update(text: str) -> bool:
    """True when the request is a SPARQL Update: the first keyword after the prologue (comments, PREFIX, BASE)
    starts an update operation. Checked before anything runs, so an update is refused with a 403 that says
    why instead of the parser's 'expected SELECT' that a query parser would give."""
    pos = 0
    while True:
        m = _PROLOGUE.match(text, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
    word = re.match(r"[A-Za-z]+", text[pos:])
    return bool(word) and word.group(0).upper() in UPDATE_WORDS


@dataclass
class QueryJob:
    """One SPARQL request as a worker needs it (picklable)."""

    query: str
    accept: str | None
    default_graphs: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)


@dataclass
class Answer:
    """An HTTP answer: status, media type, body and extra headers."""

    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def text_answer(status: int, message: str, **headers: str) -> Answer:
    return Answer(status, "text/plain; charset=utf-8", (message.rstrip("\n") + "\n").encode(), dict(headers))


class AnswerCache:
    """Answers already given, by key, up to a byte budget (least recently used go first). The store never
    changes while it is served, so an answer stays right; under load the cache is what keeps pages fast."""

    def __init__(self, max_bytes: int = 64 << 20) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[Any, Answer] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: Any) -> Answer | None:
        with self._lock:
            a = self._items.get(key)
            if a is not None:
                self._items.move_to_end(key)
        return Answer(a.status, a.content_type, a.body, dict(a.headers)) if a is not None else None

    def put(self, key: Any, answer: Answer) -> None:
        if answer.status != 200 or len(answer.body) > self.max_bytes // 16:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = Answer(answer.status, answer.content_type, answer.body, dict(answer.headers))
            self._size += len(answer.body)
            while self._size > self.max_bytes and self._items:
                _, old = self._items.popitem(last=False)
                self._size -= len(old.body)


def execute(store: ox.Store, job: QueryJob) -> Answer:
    """Evaluate and serialise one query with Oxigraph. Runs in a worker; the whole of it is under the timeout,
    serialisation included, because Oxigraph evaluates lazily while results are written."""
    kwargs: dict[str, Any] = {}
    try:
        if job.default_graphs:
            kwargs["default_graph"] = [ox.NamedNode(g) for g in job.default_graphs]
        else:
            kwargs["use_default_graph_as_union"] = True
        if job.named_graphs:
            kwargs["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs]
    except ValueError as exc:
        return text_answer(400, f"bad default-graph-uri or named-graph-uri: {exc}")
    try:
        result = store.query(job.query, **kwargs)
    except SyntaxError as exc:
        return text_answer(400, f"the query does not parse: {exc}")
    except (OSError, ValueError, RuntimeError) as exc:
        return text_answer(500, f"the query failed: {exc}")
    try:
        if isinstance(result, ox.QueryTriples):
            media = negotiate(job.accept, list(GRAPH_FORMATS))
            if media is None:
                return text_answer(406, "a CONSTRUCT or DESCRIBE answer is available as " + ", ".join(GRAPH_FORMATS))
            fmt = GRAPH_FORMATS[media]
            body = turtle(list(result), _prefixes()) if fmt == ox.RdfFormat.TURTLE else result.serialize(format=fmt)
            return Answer(200, f"{media}; charset=utf-8", body)
        media = negotiate(job.accept, list(RESULTS_FORMATS))
        if media is None:
            return text_answer(406, "SELECT and ASK answers are available as " + ", ".join(RESULTS_FORMATS))
        return Answer(200, f"{media}; charset=utf-8", result.serialize(format=RESULTS_FORMATS[media]))
    except (OSError, ValueError, RuntimeError, SyntaxError) as exc:
        return text_answer(500, f"the query failed while its results were written: {exc}")


def _prefixes() -> dict[str, str]:
    return {p: str(ns) for p, ns in PREFIXES.items()}


def turtle(triples: list[ox.Triple], prefixes: dict[str, str]) -> bytes:
    return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=safe_prefixes(triples, prefixes))


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies, so a killed server leaves no worker behind."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _worker_main(conn, location: str, parent: int) -> None:
    """A query worker: one read-only Oxigraph handle, one query at a time, for as long as the pipe is open."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the front decides
    if os.getppid() != parent:
        return
    store = ox.Store.read_only(location)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            answer = execute(store, job)
        except Exception as exc:  # anything else must still give the waiting client an answer
            answer = text_answer(500, f"the query failed: {type(exc).__name__}: {exc}")
        try:
            conn.send(answer)
        except (OSError, ValueError):
            return


class _Worker:
    def __init__(self, ctx, location: str) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child, location, os.getpid()), daemon=True,
                                   name="kg-serve-query")
        self.process.start()
        child.close()

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()


class QueryPool:
    """Worker processes that answer SPARQL. A client waits at most `timeout` for a free worker and at most
    `timeout` for its query; a worker that overruns is killed (nothing else can stop an Oxigraph evaluation)
    and a fresh one takes its place."""

    def __init__(self, location: Path, size: int, timeout: float) -> None:
        self.location = str(location)
        self.timeout = timeout
        self.size = size
        self._ctx = multiprocessing.get_context("spawn")
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False
        for _ in range(size):
            self._idle.put(self._spawn())

    def _spawn(self) -> _Worker:
        w = _Worker(self._ctx, self.location)
        with self._lock:
            self._all.add(w)
        return w

    def _retire(self, w: _Worker) -> None:
        with self._lock:
            self._all.discard(w)
        w.stop()
        if not self._closed:
            self._idle.put(self._spawn())

    def run(self, job: QueryJob) -> Answer:
        # Waiting in line is not failing: under a burst a request may wait several query timeouts for a worker.
        wait = max(30.0, 3 * self.timeout)
        try:
            w = self._idle.get(timeout=wait)
        except queue.Empty:
            return text_answer(503, f"all {self.size} query workers stayed busy for {wait:g} s; try again shortly",
                               **{"Retry-After": "5"})
        try:
            w.conn.send(job)
            if w.conn.poll(self.timeout):
                answer = w.conn.recv()
                self._idle.put(w)
                return answer
        except (EOFError, OSError, BrokenPipeError):
            self._retire(w)
            return text_answer(500, "the query engine stopped while answering (out of memory?); the query was not completed")
        self._retire(w)
        return text_answer(504, f"query timeout: the query ran longer than {self.timeout:g} s and was stopped. "
                                "Narrow it (more specific patterns, a LIMIT, fewer OPTIONALs) or run it locally with `kg query`.")

    def close(self) -> None:
        self._closed = True
        with self._lock:
            workers = list(self._all)
            self._all.clear()
        for w in workers:
            w.stop()


# ---------------------------------------------------------------------------------------------------
# Reading the graph for pages
# ---------------------------------------------------------------------------------------------------

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


def month_range(first: str, last: str) -> list[str]:
    y, m = int(first[:4]), int(first[5:7])
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def timeline(months: list[str]) -> dict:
    """Bars of an inline SVG: one per month from the first to the last mention, empty months included, so the
    gaps in a correspondence are as visible as its peaks."""
    if not months:
        return {"bars": [], "width": 0, "height": 0, "max": 0, "total": 0}
    counts = Counter(months)
    span = month_range(min(counts), max(counts))
    peak = max(counts.values())
    bar_w, gap, plot_h, top = 10, 2, 100, 14
    bars = []
    for i, month in enumerate(span):
        n = counts.get(month, 0)
        h = round(plot_h * n / peak) if n else 0
        x = i * (bar_w + gap)
        bars.append({"month": month, "count": n, "x": x, "y": top + plot_h - h, "w": bar_w, "h": h,
                     "label": month[:4] if month.endswith("-01") or i == 0 else ""})
    return {"bars": bars, "width": max(len(span) * (bar_w + gap), 60), "height": top + plot_h + 16, "base": top + plot_h,
            "max": peak, "total": sum(counts.values()), "first": span[0], "last": span[-1]}


class Site:
    """Everything the pages show, read from the store with SPARQL. The store does not change while it is
    served (a new build is a new directory; restart to serve it), so answers are cached."""

    def __init__(self, link: Path, public_base: str | None, seeds: Path | None) -> None:
        self.dir = link.resolve()
        location = self.dir / "oxigraph"
        if not location.exists():
            raise KGError(f"{link}: no built graph here; run `kg build` first (or pass --store DIR)")
        self.location = location
        self.store = ox.Store.read_only(str(location))
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

    def ontology_terms(self) -> list[dict[str, Any]]:
        """The vocabulary's own terms with their kind, label and comment, for its HTML page."""
        terms: dict[str, dict[str, Any]] = {}
        for t in self.ontology:
            s = t.subject.value
            if not s.startswith(WKG):
                continue
            term = terms.setdefault(s, {"iri": s, "name": s[len(WKG):], "kinds": [], "label": None, "comment": None})
            if t.predicate.value == RDF_TYPE:
                term["kinds"].append(local_name(t.object.value))
            elif t.predicate.value == RDFS + "label":
                term["label"] = t.object.value
            elif t.predicate.value == RDFS + "comment":
                term["comment"] = t.object.value
        return sorted(terms.values(), key=lambda x: (not x["name"][:1].isupper(), x["name"].lower()))

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
            return self.link_prefix + quote(rest, safe="/:@!$&'()*+,;=-._~") + frag
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
        rest = unquote(path.lstrip("/"))
        if not rest.startswith(RESOURCE_PREFIXES):
            return None
        segments = rest.split("/")
        if any(s in (".", "..") for s in segments) or "\\" in rest or "\x00" in rest:
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

    # -- pages --------------------------------------------------------------------------------------

    @functools.lru_cache(maxsize=1)  # noqa: B019
    def home(self) -> dict[str, Any]:
        counts = self.select("SELECT (COUNT(*) AS ?triples) WHERE { GRAPH ?g { ?s ?p ?o } }")[0]
        msgs = self.select("""SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE { ?m a schema:Message ; schema:isPartOf ?src }""")[0]["n"]
        stubs = self.select("""SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE { ?m wkg:stub true }""")[0]["n"]
        ment = self.select("""SELECT (COUNT(?a) AS ?n) (COUNT(?e) AS ?linked) (COUNT(DISTINCT ?e) AS ?entities) WHERE {
            ?a a oa:Annotation . OPTIONAL { ?a oa:hasBody ?e } }""")[0]
        reviewed = self.select("""SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e wkg:reviewed true ; skos:prefLabel ?l }""")[0]["n"]
        unreviewed = self.select("""SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e wkg:reviewed false }""")[0]["n"]
        sources = self.select("""
            SELECT ?source ?file ?title ?kind ?citation ?date (COUNT(DISTINCT ?m) AS ?messages) WHERE {
              ?source a schema:CreativeWork ; wkg:fileName ?file ; dcterms:title ?title .
              OPTIONAL { ?source wkg:sourceKind ?kind } OPTIONAL { ?source dcterms:bibliographicCitation ?citation }
              OPTIONAL { ?source dcterms:date ?date } OPTIONAL { ?m schema:isPartOf ?source } }
            GROUP BY ?source ?file ?title ?kind ?citation ?date ORDER BY ?file""")
        top = self.select("""
            SELECT ?e (COUNT(?a) AS ?n) WHERE { ?a oa:hasBody ?e } GROUP BY ?e ORDER BY DESC(?n) ?e LIMIT 40""")
        labels = self.labels([t["e"] for t in top])
        types = self._mention_types([t["e"] for t in top])
        return {
            "counts": {"triples": counts["triples"], "messages": msgs, "cited_messages": stubs, "mentions": ment["n"],
                       "linked_mentions": ment["linked"], "entities_mentioned": ment["entities"],
                       "reviewed_entities": reviewed, "unreviewed_entities": unreviewed},
            "build": {k: self.build.get(k) for k in ("build_id", "version", "pipeline", "model") if k in self.build},
            "sources": [{**s, "iri": s["source"]} for s in sources],
            "top_entities": [{"iri": t["e"], "label": labels.get(t["e"], local_name(t["e"])), "type": types.get(t["e"]),
                              "mentions": t["n"]} for t in top],
            "queries": [{"name": q["name"], "title": q["title"]} for q in self.queries],
        }

    def _mention_types(self, iris: list[str]) -> dict[str, str]:
        if not iris:
            return {}
        values = " ".join(iri_ref(i) for i in iris)
        return {r["e"]: r["t"] for r in self.select(f"SELECT ?e ?t WHERE {{ VALUES ?e {{ {values} }} ?e wkg:mentionType ?t }}")}

    @functools.lru_cache(maxsize=512)  # noqa: B019
    def entity(self, iri: str) -> dict[str, Any]:
        ref = iri_ref(iri)
        st = self.statements(iri)
        by_p: dict[str, list] = {}
        for s in st:
            by_p.setdefault(s["p"], [])
            if s["o"] not in by_p[s["p"]]:
                by_p[s["p"]].append(s["o"])
        same = by_p.get(OWL_SAMEAS, []) + by_p.get(SCHEMA + "sameAs", [])
        links = {"wikidata": [x for x in same if "wikidata.org/" in x], "dbpedia": [x for x in same if "dbpedia.org/" in x],
                 "wikipedia": [x for x in same if "wikipedia.org/" in x]}
        links["other"] = [x for x in same if x not in links["wikidata"] + links["dbpedia"] + links["wikipedia"]]
        links["wikidata_candidates"] = [x for x in by_p.get(WKG + "wikidataCandidate", []) if x not in links["wikidata"]]
        types = by_p.get(RDF_TYPE, [])

        mentions = self._entity_mentions(ref)
        offices = self.select(f"""
            SELECT ?tenure ?office ?start ?end ?note WHERE {{ ?tenure org:member {ref} ; org:role ?office .
              OPTIONAL {{ ?tenure schema:startDate ?start }} OPTIONAL {{ ?tenure schema:endDate ?end }}
              OPTIONAL {{ ?tenure skos:note ?note }} }} ORDER BY ?start ?office""")
        holders = self.select(f"""
            SELECT ?tenure ?person ?start ?end ?note WHERE {{ ?tenure org:role {ref} ; org:member ?person .
              OPTIONAL {{ ?tenure schema:startDate ?start }} OPTIONAL {{ ?tenure schema:endDate ?end }}
              OPTIONAL {{ ?tenure skos:note ?note }} }} ORDER BY ?start ?person""")
        co = self.select(f"""
            SELECT ?other (COUNT(DISTINCT ?m) AS ?messages) WHERE {{
              ?a oa:hasBody {ref} ; wkg:inMessage ?m . ?b wkg:inMessage ?m ; oa:hasBody ?other . FILTER(?other != {ref}) }}
            GROUP BY ?other ORDER BY DESC(?messages) ?other LIMIT 25""")
        corr = self.select(f"""
            SELECT ?message ?role ?created ?sent ?approx ?label ?stub WHERE {{
              {{ ?message schema:sender {ref} BIND("sender" AS ?role) }}
              UNION {{ ?message schema:recipient {ref} BIND("recipient" AS ?role) }}
              UNION {{ ?message wkg:deliveredThrough {ref} BIND("delivered through" AS ?role) }}
              ?message a schema:Message .
              OPTIONAL {{ ?message schema:dateCreated ?created }} OPTIONAL {{ ?message schema:dateSent ?sent }}
              OPTIONAL {{ ?message wkg:approximateDate ?approx }} OPTIONAL {{ ?message rdfs:label ?label }}
              BIND(EXISTS {{ ?message wkg:stub true }} AS ?stub) }}""")
        related = set(by_p.get(WKG + "associatedWith", []) + by_p.get(WKG + "country", []))
        names = self.labels([o["office"] for o in offices] + [h["person"] for h in holders] + [c["other"] for c in co]
                            + list(related) + types + [m["via"] for m in mentions if m.get("via")])
        corr_rows: dict[tuple[str, str], dict] = {}
        for c in corr:
            corr_rows.setdefault((c["message"], c["role"]), {
                "iri": c["message"], "role": c["role"], "label": c["label"] or local_name(c["message"]),
                "date": c["created"] or c["sent"] or c["approx"], "approximate": not (c["created"] or c["sent"]) and bool(c["approx"]),
                "stub": bool(c["stub"])})
        for m in mentions:
            if m.get("via"):
                m["via_label"] = names.get(m["via"], local_name(m["via"]))
        pref = by_p.get(SKOS + "prefLabel", [])
        return {
            "iri": iri,
            "label": pref[0] if pref else self.labels_of(iri),
            "labels": pref,
            "alt_labels": by_p.get(SKOS + "altLabel", []),
            "description": (by_p.get(SCHEMA + "description") or [None])[0],
            "types": [{"iri": t, "label": names.get(t, local_name(t))} for t in types],
            "mention_type": (by_p.get(WKG + "mentionType") or [None])[0],
            "reviewed": (by_p.get(WKG + "reviewed") or [None])[0],
            "birth": (by_p.get(SCHEMA + "birthDate") or [None])[0],
            "death": (by_p.get(SCHEMA + "deathDate") or [None])[0],
            "start": (by_p.get(SCHEMA + "startDate") or [None])[0],
            "end": (by_p.get(SCHEMA + "endDate") or [None])[0],
            "wikipedia_title": (by_p.get(WKG + "wikipediaTitle") or [None])[0],
            "links": links,
            "related": sorted(({"iri": r, "label": names.get(r, local_name(r))} for r in related), key=lambda x: x["label"]),
            "offices": [{**o, "label": names.get(o["office"], local_name(o["office"]))} for o in offices],
            "holders": [{**h, "label": names.get(h["person"], local_name(h["person"]))} for h in holders],
            "mentions": mentions,
            "timeline": timeline([m["date"][:7] for m in mentions if m.get("date")]),
            "undated_mentions": sum(1 for m in mentions if not m.get("date")),
            "co_mentioned": [{"iri": c["other"], "label": names.get(c["other"], local_name(c["other"])), "messages": c["messages"]}
                             for c in co],
            "correspondence": sorted(corr_rows.values(), key=lambda r: (r["date"] or "9999", r["iri"])),
            "statements": st,
        }

    def _entity_mentions(self, ref: str) -> list[dict[str, Any]]:
        rows = self.select(f"""
            SELECT ?a ?message ?start ?end ?exact ?prefix ?suffix ?score ?type ?alias ?cue ?via ?created ?sent ?approx ?mlabel WHERE {{
              ?a oa:hasBody {ref} ; wkg:inMessage ?message ; oa:hasTarget ?t .
              ?t oa:hasSelector ?pos, ?quote .
              ?pos a oa:TextPositionSelector ; oa:start ?start ; oa:end ?end .
              ?quote a oa:TextQuoteSelector ; oa:exact ?exact .
              OPTIONAL {{ ?quote oa:prefix ?prefix }} OPTIONAL {{ ?quote oa:suffix ?suffix }}
              OPTIONAL {{ ?a wkg:score ?score }} OPTIONAL {{ ?a wkg:mentionType ?type }}
              OPTIONAL {{ ?a wkg:matchedAlias ?alias }} OPTIONAL {{ ?a wkg:titleCue ?cue }} OPTIONAL {{ ?a wkg:viaOffice ?via }}
              OPTIONAL {{ ?message schema:dateCreated ?created }} OPTIONAL {{ ?message schema:dateSent ?sent }}
              OPTIONAL {{ ?message wkg:approximateDate ?approx }} OPTIONAL {{ ?message rdfs:label ?mlabel }} }}""")
        reasons: dict[str, list[str]] = {}
        for r in self.select(f"SELECT ?a ?reason WHERE {{ ?a oa:hasBody {ref} ; wkg:reason ?reason }} ORDER BY ?a ?reason"):
            reasons.setdefault(r["a"], []).append(r["reason"])
        out: dict[str, dict] = {}
        for r in rows:
            if r["a"] in out:
                continue
            date = r["created"] or r["sent"]
            out[r["a"]] = {
                "iri": r["a"], "message": r["message"], "message_label": r["mlabel"] or local_name(r["message"]),
                "date": date or r["approx"], "approximate": not date and bool(r["approx"]),
                "start": r["start"], "end": r["end"], "text": r["exact"],
                "prefix": _oneline(r["prefix"] or ""), "suffix": _oneline(r["suffix"] or ""),
                "score": r["score"], "type": r["type"], "alias": r["alias"], "title_cue": r["cue"], "via": r["via"],
                "reasons": reasons.get(r["a"], []),
            }
        return sorted(out.values(), key=lambda m: (m["date"] or "9999", m["message"], m["start"]))

    @functools.lru_cache(maxsize=512)  # noqa: B019
    def message(self, iri: str) -> dict[str, Any]:
        ref = iri_ref(iri)
        st = self.statements(iri)
        one: dict[str, Any] = {}
        many: dict[str, list] = {}
        for s in st:
            one.setdefault(s["p"], s["o"])
            many.setdefault(s["p"], [])
            if s["o"] not in many[s["p"]]:
                many[s["p"]].append(s["o"])
        source = one.get(SCHEMA + "isPartOf")
        src: dict[str, Any] = {}
        if source:
            sst = {s["p"]: s["o"] for s in self.statements(source)}
            src = {"iri": source, "title": sst.get(DCT + "title"), "citation": sst.get(DCT + "bibliographicCitation"),
                   "url": sst.get(SCHEMA + "url"), "file": sst.get(WKG + "fileName"), "kind": sst.get(WKG + "sourceKind"),
                   "sha256": sst.get(WKG + "sha256"), "genre": sst.get(SCHEMA + "genre"), "date": sst.get(DCT + "date")}
        replies_to = many.get(AS_REPLY, [])
        replies = [r["m"] for r in self.select(f"SELECT ?m WHERE {{ ?m as:inReplyTo {ref} }} ORDER BY ?m")]
        deliveries = self.select(f"""
            SELECT ?d ?through ?to ?cue ?evidence WHERE {{ ?d a wkg:Delivery ; wkg:message {ref} ; wkg:through ?through .
              OPTIONAL {{ ?d wkg:deliveredTo ?to }} OPTIONAL {{ ?d wkg:cue ?cue }} OPTIONAL {{ ?d wkg:evidence ?evidence }} }}
            ORDER BY ?d""")
        mentions = self._message_mentions(ref)
        people = [one.get(SCHEMA + "sender")] + many.get(SCHEMA + "recipient", []) + [d["through"] for d in deliveries] \
            + [d["to"] for d in deliveries if d["to"]] + replies_to + replies + [m["entity"] for m in mentions if m["entity"]]
        names = self.labels([p for p in people if p])
        dates = self._dates(replies_to + replies)

        def who(x: str | None) -> dict | None:
            return {"iri": x, "label": names.get(x, local_name(x))} if x else None

        def msg(x: str) -> dict:
            return {"iri": x, "label": names.get(x, local_name(x)), "date": dates.get(x)}

        for m in mentions:
            m["label"] = names.get(m["entity"], local_name(m["entity"])) if m["entity"] else None
        neighbours = {}
        pos = one.get(WKG + "position")
        if source and isinstance(pos, int):
            for r in self.select(f"""SELECT ?m ?pos WHERE {{ ?m schema:isPartOf {iri_ref(source)} ; wkg:position ?pos .
                                      FILTER(?pos = {pos - 1} || ?pos = {pos + 1}) }}"""):
                neighbours["previous" if r["pos"] < pos else "next"] = {"iri": r["m"], "label": self.labels_of(r["m"])}
        text, why = None, "this message is not in the corpus: it is known only because another message cites it"
        start, end = one.get("http://www.w3.org/ns/oa#start"), one.get("http://www.w3.org/ns/oa#end")
        if src.get("file") and isinstance(start, int) and isinstance(end, int):
            full, why = self.source_text(src["file"], src.get("sha256"))
            if full is not None:
                text = full[start:end]
        return {
            "iri": iri,
            "label": one.get(RDFS + "label") or local_name(iri),
            "headline": one.get(SCHEMA + "headline"),
            "stub": bool(one.get(WKG + "stub")),
            "date_created": one.get(SCHEMA + "dateCreated"),
            "date_sent": one.get(SCHEMA + "dateSent"),
            "approximate_date": one.get(WKG + "approximateDate"),
            "undated": bool(one.get(WKG + "undated")),
            "sender": who(one.get(SCHEMA + "sender")),
            "recipients": [who(r) for r in many.get(SCHEMA + "recipient", [])],
            "source": src,
            "position": pos,
            "start": start,
            "end": end,
            "notes": many.get(RDFS + "comment", []),
            "in_reply_to": [msg(r) for r in replies_to],
            "replies": [msg(r) for r in replies],
            "delivered": [{"iri": d["d"], "through": who(d["through"]), "to": who(d["to"]), "cue": d["cue"], "evidence": d["evidence"]}
                          for d in deliveries],
            "neighbours": neighbours,
            "mentions": mentions,
            "text": text,
            "text_missing": None if text is not None else why,
            "segments": segments(text, start, mentions) if text is not None else [],
            "statements": st,
        }

    def _dates(self, iris: list[str]) -> dict[str, str]:
        if not iris:
            return {}
        values = " ".join(iri_ref(i) for i in dict.fromkeys(iris))
        rows = self.select(f"""SELECT ?m ?d WHERE {{ VALUES ?m {{ {values} }}
            OPTIONAL {{ ?m schema:dateCreated ?c }} OPTIONAL {{ ?m schema:dateSent ?s }} BIND(COALESCE(?c, ?s) AS ?d) }}""")
        return {r["m"]: r["d"] for r in rows if r["d"]}

    def _message_mentions(self, ref: str) -> list[dict[str, Any]]:
        rows = self.select(f"""
            SELECT ?a ?entity ?start ?end ?exact ?score ?type WHERE {{
              ?a wkg:inMessage {ref} ; oa:hasTarget ?t . ?t oa:hasSelector ?pos, ?quote .
              ?pos a oa:TextPositionSelector ; oa:start ?start ; oa:end ?end .
              ?quote a oa:TextQuoteSelector ; oa:exact ?exact .
              OPTIONAL {{ ?a oa:hasBody ?entity }} OPTIONAL {{ ?a wkg:score ?score }} OPTIONAL {{ ?a wkg:mentionType ?type }} }}""")
        reasons: dict[str, list[str]] = {}
        for r in self.select(f"SELECT ?a ?reason WHERE {{ ?a wkg:inMessage {ref} ; wkg:reason ?reason }} ORDER BY ?a ?reason"):
            reasons.setdefault(r["a"], []).append(r["reason"])
        out: dict[str, dict] = {}
        for r in rows:
            out.setdefault(r["a"], {"iri": r["a"], "entity": r["entity"], "start": r["start"], "end": r["end"], "text": r["exact"],
                                    "score": r["score"], "type": r["type"], "reasons": reasons.get(r["a"], [])})
        return sorted(out.values(), key=lambda m: (m["start"], -m["end"]))

    @functools.lru_cache(maxsize=64)  # noqa: B019
    def source(self, iri: str) -> dict[str, Any]:
        st = self.statements(iri)
        one = {}
        for s in st:
            one.setdefault(s["p"], s["o"])
        msgs = self.select(f"""
            SELECT ?m ?pos ?label ?created ?sent ?approx ?sender (COUNT(?a) AS ?mentions) WHERE {{
              ?m schema:isPartOf {iri_ref(iri)} ; wkg:position ?pos .
              OPTIONAL {{ ?m rdfs:label ?label }} OPTIONAL {{ ?m schema:dateCreated ?created }}
              OPTIONAL {{ ?m schema:dateSent ?sent }} OPTIONAL {{ ?m wkg:approximateDate ?approx }}
              OPTIONAL {{ ?m schema:sender ?sender }} OPTIONAL {{ ?a wkg:inMessage ?m }} }}
            GROUP BY ?m ?pos ?label ?created ?sent ?approx ?sender ORDER BY ?pos""")
        names = self.labels([m["sender"] for m in msgs if m["sender"]])
        return {
            "iri": iri, "title": one.get(DCT + "title") or local_name(iri), "citation": one.get(DCT + "bibliographicCitation"),
            "url": one.get(SCHEMA + "url"), "file": one.get(WKG + "fileName"), "kind": one.get(WKG + "sourceKind"),
            "genre": one.get(SCHEMA + "genre"), "date": one.get(DCT + "date"), "sha256": one.get(WKG + "sha256"),
            "messages": [{"iri": m["m"], "position": m["pos"], "label": m["label"] or local_name(m["m"]),
                          "date": m["created"] or m["sent"] or m["approx"], "approximate": not (m["created"] or m["sent"]),
                          "sender": {"iri": m["sender"], "label": names.get(m["sender"], local_name(m["sender"]))} if m["sender"] else None,
                          "mentions": m["mentions"]} for m in msgs],
            "statements": st,
        }

    @functools.lru_cache(maxsize=512)  # noqa: B019
    def resource(self, iri: str) -> dict[str, Any]:
        """Any other resource (tenure, annotation, graph, run): its statements, and what points at it."""
        ref = iri_ref(iri)
        st = self.statements(iri)
        parts = []
        if iri.startswith(self.graph_base + "annotation/"):
            for frag in ("target", "position", "quote"):
                sub = f"{iri}#{frag}"
                sub_st = self.statements(sub)
                if sub_st:
                    parts.append({"iri": sub, "statements": sub_st})
        incoming = self.select(f"SELECT ?s ?p ?g WHERE {{ GRAPH ?g {{ ?s ?p {ref} }} }} ORDER BY ?p ?s LIMIT 500")
        size = None
        if iri.startswith(self.graph_base + "graph/"):
            size = self.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {ref} {{ ?s ?p ?o }} }}")[0]["n"]
        return {"iri": iri, "label": self.labels_of(iri), "statements": st, "parts": parts, "incoming": incoming, "graph_triples": size}

    # -- RDF descriptions and VoID -----------------------------------------------------------------

    def describe(self, iri: str) -> list[ox.Triple]:
        """The RDF about one IRI: its own triples (every graph), the triples that point at it, and the mentions
        of it (or in it, for a message) with their targets and selectors, at most DESCRIBE_MENTIONS of them.
        Several small queries, each starting from a bound IRI, rather than one CONSTRUCT of UNIONs: SPARQL
        evaluates groups bottom-up, so a UNION branch cannot see bindings made outside it and would scan."""
        ref = iri_ref(iri)
        subjects = [ref]
        if iri.startswith(self.graph_base + "annotation/"):
            subjects += [iri_ref(f"{iri}#{f}") for f in ("target", "position", "quote")]
        annotations = [r["a"] for r in self.select(f"""
            SELECT DISTINCT ?a WHERE {{ {{ ?a oa:hasBody {ref} }} UNION {{ ?a wkg:inMessage {ref} }} }}
            ORDER BY ?a LIMIT {DESCRIBE_MENTIONS}""")]
        values = " ".join(iri_ref(a) for a in annotations)
        queries = [f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES ?s {{ {' '.join(subjects)} }} ?s ?p ?o }}",
                   f"CONSTRUCT {{ ?s ?p {ref} }} WHERE {{ ?s ?p {ref} }}"]
        if annotations:
            queries += [f"CONSTRUCT {{ ?a ?p ?o }} WHERE {{ VALUES ?a {{ {values} }} ?a ?p ?o }}",
                        f"CONSTRUCT {{ ?t ?p ?o }} WHERE {{ VALUES ?a {{ {values} }} ?a oa:hasTarget ?t . ?t ?p ?o }}",
                        f"CONSTRUCT {{ ?x ?p ?o }} WHERE {{ VALUES ?a {{ {values} }} ?a oa:hasTarget ?t . ?t oa:hasSelector ?x . ?x ?p ?o }}"]
        triples: dict[ox.Triple, None] = {}
        for q in queries:
            for t in self.store.query(sparql_prologue() + q, use_default_graph_as_union=True):
                triples.setdefault(t, None)
        return self._rebase_triples(list(triples))

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

    @functools.lru_cache(maxsize=1)  # noqa: B019
    def void_counts(self) -> dict[str, Any]:
        c = self.select("""SELECT (COUNT(*) AS ?triples) WHERE { GRAPH ?g { ?s ?p ?o } }""")[0]
        c.update(self.select("""SELECT (COUNT(DISTINCT ?s) AS ?entities) WHERE { GRAPH ?g { ?s ?p ?o }
                                FILTER(isIRI(?s) && !CONTAINS(STR(?s), "#")) }""")[0])
        c.update(self.select("""SELECT (COUNT(DISTINCT ?s) AS ?subjects) WHERE { GRAPH ?g { ?s ?p ?o } }""")[0])
        c.update(self.select("""SELECT (COUNT(DISTINCT ?o) AS ?objects) WHERE { GRAPH ?g { ?s ?p ?o } }""")[0])
        c.update(self.select("""SELECT (COUNT(DISTINCT ?p) AS ?properties) WHERE { GRAPH ?g { ?s ?p ?o } }""")[0])
        c.update(self.select("""SELECT (COUNT(DISTINCT ?c) AS ?classes) WHERE { GRAPH ?g { ?s a ?c } }""")[0])
        c["graphs"] = self.select("""SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g""")
        top = self.home()["top_entities"]
        c["examples"] = [t["iri"] for t in top[:3]]
        return c

    def void(self, root: str) -> list[ox.Triple]:
        """The VoID description. `root` is where this server answers (http://host:port/), for the endpoint and dumps."""
        V = "http://rdfs.org/ns/void#"
        XSD = "http://www.w3.org/2001/XMLSchema#"
        c = self.void_counts()
        ds = ox.NamedNode(self.public_base + "dataset")
        doc = ox.NamedNode(root + ".well-known/void")

        def n(x: str) -> ox.NamedNode:
            return ox.NamedNode(x)

        def count(x: int) -> ox.Literal:
            return ox.Literal(str(x), datatype=n(XSD + "integer"))

        t = [
            ox.Triple(doc, n(RDF_TYPE), n(V + "DatasetDescription")),
            ox.Triple(doc, n(DCT + "title"), ox.Literal("VoID description of wartime-kg", language="en")),
            ox.Triple(doc, n("http://xmlns.com/foaf/0.1/primaryTopic"), ds),
            ox.Triple(ds, n(RDF_TYPE), n(V + "Dataset")),
            ox.Triple(ds, n(DCT + "title"), ox.Literal("wartime-kg: the Allied wartime correspondence of J. V. Stalin", language="en")),
            ox.Triple(ds, n(DCT + "description"), ox.Literal(
                "Messages, mentions (W3C Web Annotation), people, places, organisations, events and offices extracted "
                "from Stalin's wartime correspondence, with provenance for every statement.", language="en")),
            ox.Triple(ds, n(V + "triples"), count(c["triples"])),
            ox.Triple(ds, n(V + "entities"), count(c["entities"])),
            ox.Triple(ds, n(V + "distinctSubjects"), count(c["subjects"])),
            ox.Triple(ds, n(V + "distinctObjects"), count(c["objects"])),
            ox.Triple(ds, n(V + "properties"), count(c["properties"])),
            ox.Triple(ds, n(V + "classes"), count(c["classes"])),
            ox.Triple(ds, n(V + "sparqlEndpoint"), n(root + "query")),
            ox.Triple(ds, n(V + "dataDump"), n(root + "dumps/graph.nq.gz")),
            ox.Triple(ds, n(V + "dataDump"), n(root + "dumps/graph.ttl.gz")),
            ox.Triple(ds, n(V + "uriSpace"), ox.Literal(self.public_base)),
            ox.Triple(ds, n(V + "feature"), n("http://www.w3.org/ns/formats/Turtle")),
            ox.Triple(ds, n(V + "feature"), n("http://www.w3.org/ns/formats/N-Quads")),
            ox.Triple(ds, n(V + "feature"), n("http://www.w3.org/ns/formats/JSON-LD")),
        ]
        for ns in ("https://schema.org/", "http://www.w3.org/ns/oa#", "http://www.w3.org/ns/org#", SKOS,
                   "http://www.w3.org/ns/prov#", "http://www.w3.org/2002/07/owl#", WKG):
            t.append(ox.Triple(ds, n(V + "vocabulary"), n(self.public(ns))))
        for ex in c["examples"]:
            t.append(ox.Triple(ds, n(V + "exampleResource"), n(self.public(ex))))
        for g in c["graphs"]:
            gi = n(self.public(g["g"]))
            t.append(ox.Triple(ds, n(V + "subset"), gi))
            t.append(ox.Triple(gi, n(RDF_TYPE), n(V + "Dataset")))
            t.append(ox.Triple(gi, n(V + "triples"), count(g["n"])))
        return t


def _oneline(s: str) -> str:
    return re.sub(r"\s+", " ", s)


def segments(text: str, offset: int, mentions: list[dict]) -> list[dict[str, Any]]:
    """The message text cut into plain runs and mention runs (by the mentions' absolute offsets). Overlapping
    mentions keep the first. The runs are rendered by the template, which escapes them."""
    out: list[dict[str, Any]] = []
    pos = 0
    for m in mentions:
        s, e = m["start"] - offset, m["end"] - offset
        if s < pos or e > len(text) or s >= e:
            continue
        if s > pos:
            out.append({"text": text[pos:s]})
        out.append({"text": text[s:e], "mention": m})
        pos = e
    if pos < len(text):
        out.append({"text": text[pos:]})
    return out


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


# ---------------------------------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------------------------------

HTML_TYPES = ("text/html", "application/xhtml+xml")
READ_ONLY = ("This endpoint is read-only: SPARQL Update (INSERT, DELETE, LOAD, CLEAR, CREATE, DROP, COPY, MOVE, ADD) "
             "and writes of any kind are refused. The graph changes only by a new `kg build`.")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml",
                ".png": "image/png", ".ico": "image/x-icon", ".txt": "text/plain; charset=utf-8"}
DUMPS = {"graph.nq.gz": "N-Quads", "graph.ttl.gz": "Turtle"}
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


@dataclass
class Request:
    method: str
    path: str  # percent-encoded, without the query string
    params: dict[str, list[str]]
    headers: Any  # email.message.Message: case-insensitive get()
    body: bytes = b""

    def accept(self) -> str | None:
        return self.headers.get("Accept")

    def param(self, name: str) -> str | None:
        v = self.params.get(name)
        return v[0] if v else None


@dataclass
class FileAnswer(Answer):
    """An answer streamed from a file (the dumps), so a large dump never sits in memory."""

    file: Path | None = None


class App:
    """Turns requests into answers. Holds the site, the query pool, the templates and the static files."""

    def __init__(self, site: Site, pool: QueryPool, fallback_root: str) -> None:
        self.site = site
        self.pool = pool
        self.fallback_root = fallback_root
        self.env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"], default=True),
                               trim_blocks=True, lstrip_blocks=True)
        self.env.globals.update(href=site.href, public=site.public, local_name=local_name, prefix=site.link_prefix,
                                graph_base=site.graph_base, short=self.short)
        self.env.filters["short"] = self.short
        self.static = {f.name: (f.read_bytes(), STATIC_TYPES.get(f.suffix, "application/octet-stream"))
                       for f in STATIC.iterdir() if f.is_file()} if STATIC.is_dir() else {}
        self.queries = {q["name"]: q for q in site.queries}
        self.cache = AnswerCache()
        self._inflight: dict[Any, threading.Event] = {}
        self._inflight_lock = threading.Lock()

    def cached(self, key: Any, compute: Any) -> Answer:
        """The cached answer for `key`, else compute it once: concurrent requests for the same key wait for the
        first one instead of all computing the same page (50 clients opening Churchill at once)."""
        ans = self.cache.get(key)
        if ans is not None:
            return ans
        with self._inflight_lock:
            event = self._inflight.get(key)
            leader = event is None
            if leader:
                event = self._inflight[key] = threading.Event()
        assert event is not None
        if not leader:
            event.wait(120)
            ans = self.cache.get(key)
            return ans if ans is not None else compute()
        try:
            ans = compute()
            self.cache.put(key, ans)
            return ans
        finally:
            with self._inflight_lock:
                del self._inflight[key]
            event.set()

    def short(self, iri: str | None) -> str:
        """An IRI as a prefixed name where one of our prefixes fits (for tables of statements)."""
        if not iri:
            return ""
        for p, ns in PREFIXES.items():
            if iri.startswith(str(ns)) and len(iri) > len(str(ns)):
                return f"{p}:{iri[len(str(ns)):]}"
        return iri

    def root(self, req: Request) -> str:
        """The absolute root of this server as clients reach it (for VoID): --base if given, else the Host header."""
        if self.site.public_base != self.site.graph_base:
            return self.site.public_base
        host = req.headers.get("Host", "")
        return f"http://{host}/" if _HOST.match(host) else self.fallback_root

    # -- dispatch -----------------------------------------------------------------------------------

    def handle(self, req: Request) -> Answer:
        path = req.path
        if path == "/update" or path.startswith("/update/") or req.method in ("PUT", "DELETE", "PATCH"):
            return text_answer(403, READ_ONLY)
        if path == "/query":
            return self.sparql(req)
        if req.method == "POST":
            return text_answer(405, "POST is accepted only by /query", Allow="GET, HEAD, OPTIONS")
        if path in ("/", "/index.html", "/.json", "/index.json"):
            return self.page(req, "home.html", self.site.home(), "wartime-kg", force_json=path.endswith(".json"))
        if path in ("/sparql", "/sparql.html"):
            return self.render("sparql.html", {"queries": self.site.queries, "initial": req.param("query") or ""}, "SPARQL query")
        if path in ("/queries", "/queries.json", "/queries/"):
            return self.json_answer([{k: q[k] for k in ("name", "title", "description")} | {"url": f"{self.site.link_prefix}queries/{q['name']}.rq"}
                                     for q in self.site.queries])
        if path.startswith("/queries/"):
            name = path[len("/queries/"):]
            q = self.queries.get(name[:-3]) if name.endswith(".rq") else None
            if q is None:
                return self.not_found(req)
            return Answer(200, "application/sparql-query; charset=utf-8", q["text"].encode())
        if path.startswith("/static/"):
            f = self.static.get(path[len("/static/"):])
            if f is None:
                return self.not_found(req)
            return Answer(200, f[1], f[0], {"Cache-Control": "public, max-age=3600"})
        if path.startswith("/.well-known/void"):
            return self.void(req)
        if path.startswith("/dumps/"):
            return self.dump(path[len("/dumps/"):], req)
        if path == "/favicon.ico":
            return Answer(204, "image/x-icon", b"")
        if self.site.iri_for_path(path.split(".", 1)[0]) == self.site.graph_base + "ontology":
            return self.ontology(req)
        return self.dereference(req)

    # -- SPARQL protocol ----------------------------------------------------------------------------

    def sparql(self, req: Request) -> Answer:
        params = dict(req.params)
        query: list[str] | None = params.get("query")
        if req.method == "POST":
            ctype = (req.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            try:
                body = req.body.decode("utf-8")
            except UnicodeDecodeError:
                return text_answer(400, "the request body is not UTF-8")
            if ctype == "application/sparql-update":
                return text_answer(403, READ_ONLY)
            if ctype == "application/sparql-query":
                query = [body]
            elif ctype == "application/x-www-form-urlencoded":
                form = parse_qs(body, keep_blank_values=True)
                for k, v in form.items():
                    params.setdefault(k, []).extend(v)
                query = params.get("query")
            else:
                return text_answer(415, "POST a query as application/sparql-query or as the form field `query` "
                                        "(application/x-www-form-urlencoded)")
        elif req.method not in ("GET", "HEAD"):
            return text_answer(405, "use GET or POST", Allow="GET, HEAD, POST, OPTIONS")
        if "update" in params:
            return text_answer(403, READ_ONLY)
        if not query:
            if "text/html" in (req.accept() or "") and req.method != "POST":  # a person who typed /query: the query page
                return Answer(303, "text/plain; charset=utf-8", b"see /sparql\n", {"Location": f"{self.site.link_prefix}sparql"})
            return text_answer(400, "no query: pass the SPARQL text as ?query=..., as the form field `query`, or POST it "
                                    "as application/sparql-query")
        if len(query) > 1:
            return text_answer(400, "more than one query in the request")
        text = query[0]
        if len(text.encode()) > MAX_QUERY_BYTES:
            return text_answer(413, "the query is longer than 1 MiB")
        if is_update(text):
            return text_answer(403, READ_ONLY)
        fmt = req.param("format") or req.param("output") or req.param("results")
        accept = FORMAT_ALIASES.get(fmt.lower(), fmt) if fmt else req.accept()
        job = QueryJob(text, accept, params.get("default-graph-uri", []), params.get("named-graph-uri", []))
        key = ("sparql", job.query, job.accept, tuple(job.default_graphs), tuple(job.named_graphs))
        answer = self.cached(key, lambda: self.pool.run(job))
        answer.headers.setdefault("Vary", "Accept")
        return answer

    # -- pages and resources ------------------------------------------------------------------------

    def render(self, template: str, ctx: dict[str, Any], title: str, status: int = 200,
               alternates: list[tuple[str, str]] | None = None) -> Answer:
        body = self.env.get_template(template).render(page=ctx, title=title, alternates=alternates or [],
                                                      queries=self.site.queries)
        return Answer(status, "text/html; charset=utf-8", body.encode(), {"Content-Security-Policy": CSP})

    def json_answer(self, data: Any, status: int = 200) -> Answer:
        body = json.dumps(self.site.rebase(data), ensure_ascii=False, indent=1, default=str)
        return Answer(status, "application/json; charset=utf-8", body.encode())

    def page(self, req: Request, template: str, ctx: dict[str, Any], title: str, force_json: bool = False) -> Answer:
        if force_json or req.param("format") == "json":
            return self.json_answer(ctx)
        media = negotiate(req.accept(), ["text/html", "application/json"])
        if media == "application/json":
            ans = self.json_answer(ctx)
        else:
            ans = self.render(template, ctx, title, alternates=[("application/json", "/.json")])
        ans.headers["Vary"] = "Accept"
        return ans

    def not_found(self, req: Request, why: str = "") -> Answer:
        msg = why or "nothing is published at this address"
        if negotiate(req.accept(), ["text/plain", "text/html"]) == "text/html" and "text/html" in (req.accept() or ""):
            return self.render("error.html", {"status": 404, "message": msg, "path": req.path}, "Not found", status=404)
        return text_answer(404, f"404 not found: {msg}")

    def dereference(self, req: Request) -> Answer:
        """A Cool URI: the same resource as HTML, RDF or page JSON, by Accept, ?format= or a file suffix."""
        site = self.site
        path, forced = req.path, None
        iri = site.iri_for_path(path)  # None for anything that is not one of our IRIs
        if iri is None or not site.exists(iri):
            iri = None
            for suffix, media in SUFFIXES.items():
                if path.endswith(suffix):
                    cand = site.iri_for_path(path[: -len(suffix)])
                    if cand and site.exists(cand):
                        iri, forced = cand, media
                    break
        if iri is None:
            return self.not_found(req)
        fmt = req.param("format")
        if fmt:
            forced = FORMAT_ALIASES.get(fmt.lower())
            if forced is None:
                return text_answer(400, "format must be one of html, ttl, nt, jsonld, rdf, json")
        media = forced or negotiate(req.accept(), RESOURCE_TYPES)
        if media is None:
            return text_answer(406, "this resource is available as " + ", ".join(RESOURCE_TYPES))
        canonical = site.href(iri)
        alternates = [(m, f"{canonical}{s}") for s, m in SUFFIXES.items() if s != ".html"]
        headers = {"Link": ", ".join(f'<{u}>; rel="alternate"; type="{m}"' for m, u in alternates)}
        if not forced:
            headers["Vary"] = "Accept"
        ans = self.cached(("resource", iri, media), lambda: self.represent(iri, media, alternates))
        ans.headers.update(headers)
        ans.headers["Content-Location"] = f"{canonical}{next((s for s, m in SUFFIXES.items() if m == media), '')}"
        return ans

    def represent(self, iri: str, media: str, alternates: list[tuple[str, str]]) -> Answer:
        """One resource in one media type: a page (HTML or its JSON) or its RDF description."""
        site = self.site
        if media in HTML_TYPES or media == "application/json":
            types = {s["o"] for s in site.statements(iri) if s["p"] == RDF_TYPE}
            kind = site.kind(iri, types)
            ctx = {"message": site.message, "source": site.source, "entity": site.entity}.get(kind, site.resource)(iri)
            if media == "application/json":
                ans = self.json_answer({"kind": kind, **ctx})
            else:
                title = ctx.get("label") or ctx.get("title") or local_name(iri)
                ans = self.render(f"{kind}.html", ctx, title, alternates=alternates)
        else:
            fmt_ = GRAPH_FORMATS[media] if media in GRAPH_FORMATS else ox.RdfFormat.TURTLE
            triples = site.describe(iri)
            body = turtle(triples, site.prefixes()) if fmt_ == ox.RdfFormat.TURTLE else ox.serialize(triples, format=fmt_)
            ans = Answer(200, f"{media}; charset=utf-8", body)
        return ans

    def ontology(self, req: Request) -> Answer:
        """The vocabulary document (ontology/wkg.ttl): its terms are `<base>ontology#term`, so this one address
        answers for all of them."""
        site = self.site
        if not site.ontology:
            return self.not_found(req, "this installation has no ontology/wkg.ttl")
        suffix = req.path[req.path.index(".", req.path.rindex("/")):] if "." in req.path.rsplit("/", 1)[-1] else ""
        forced = SUFFIXES.get(suffix) if suffix else None
        if suffix and forced is None:
            return self.not_found(req)
        if req.param("format"):
            forced = FORMAT_ALIASES.get(req.param("format").lower())
        offers = ["text/html", "text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml", "application/json"]
        media = forced or negotiate(req.accept(), offers)
        if media is None:
            return text_answer(406, "the vocabulary is available as " + ", ".join(offers))
        triples = site._rebase_triples(site.ontology)
        if media in HTML_TYPES or media == "application/json":
            ctx = {"iri": site.graph_base + "ontology", "terms": site.ontology_terms()}
            ans = self.json_answer(ctx) if media == "application/json" else self.render("ontology.html", ctx, "wartime-kg vocabulary")
        elif media == "text/turtle":
            ans = Answer(200, "text/turtle; charset=utf-8", turtle(triples, site.prefixes()))
        else:
            ans = Answer(200, f"{media}; charset=utf-8", ox.serialize(triples, format=GRAPH_FORMATS[media]))
        if not forced:
            ans.headers["Vary"] = "Accept"
        return ans

    def void(self, req: Request) -> Answer:
        path = req.path
        forced = None
        for suffix, media in SUFFIXES.items():
            if path == "/.well-known/void" + suffix:
                forced = media
        if path != "/.well-known/void" and forced is None:
            return self.not_found(req)
        fmt = req.param("format")
        if fmt:
            forced = FORMAT_ALIASES.get(fmt.lower())
        offers = ["text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml", "text/html", "application/x-turtle"]
        media = forced or negotiate(req.accept(), offers)
        if media is None:
            return text_answer(406, "the VoID description is available as " + ", ".join(offers))
        triples = self.site.void(self.root(req))
        ttl = turtle(triples, {"void": "http://rdfs.org/ns/void#", "dcterms": DCT, "foaf": "http://xmlns.com/foaf/0.1/",
                               "xsd": "http://www.w3.org/2001/XMLSchema#"})
        if media in HTML_TYPES:
            ans = self.render("void.html", {"turtle": ttl.decode(), "counts": self.site.void_counts()}, "VoID description")
        elif media in ("text/turtle", "application/x-turtle"):
            ans = Answer(200, f"{media}; charset=utf-8", ttl)
        else:
            ans = Answer(200, f"{media}; charset=utf-8", ox.serialize(triples, format=GRAPH_FORMATS[media]))
        if not forced:
            ans.headers["Vary"] = "Accept"
        return ans

    def dump(self, name: str, req: Request) -> Answer:
        if name not in DUMPS:
            return self.not_found(req, "the dumps are /dumps/graph.nq.gz and /dumps/graph.ttl.gz")
        f = self.site.dir / "dumps" / name
        if not f.is_file():
            return self.not_found(req, f"this build has no {name}")
        return FileAnswer(200, "application/gzip", b"", {"Content-Disposition": f'attachment; filename="wartime-kg-{name}"',
                                                          "Content-Length": str(f.stat().st_size)}, file=f)


class Handler(BaseHTTPRequestHandler):
    """The HTTP side only: read the request, ask the App, write the answer with CORS and safety headers."""

    server_version = "wartime-kg"
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_OPTIONS(self) -> None:
        self._send(Answer(204, "text/plain", b"", {
            "Access-Control-Allow-Methods": "GET, HEAD, POST, OPTIONS",
            "Access-Control-Allow-Headers": "Accept, Content-Type",
            "Access-Control-Max-Age": "86400", "Allow": "GET, HEAD, POST, OPTIONS"}))

    def _dispatch(self, method: str) -> None:
        split = urlsplit(self.path)
        body = b""
        if method in ("POST", "PUT", "PATCH"):
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                self.close_connection = True
                self._send(text_answer(411, "send the request body with a Content-Length"))
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if length < 0 or length > MAX_QUERY_BYTES:
                self.close_connection = True
                self._send(text_answer(413, "the request body must be at most 1 MiB"))
                return
            body = self.rfile.read(length)
        req = Request(method, split.path or "/", parse_qs(split.query, keep_blank_values=True), self.headers, body)
        try:
            answer = self.server.app.handle(req)  # type: ignore[attr-defined]
        except Exception as exc:  # a bug must cost one request, not the server
            self.log_error("error answering %s: %s", self.path, traceback.format_exc())
            answer = text_answer(500, f"internal error: {type(exc).__name__}")
        self._send(answer, head=method == "HEAD")

    def _send(self, answer: Answer, head: bool = False) -> None:
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            file = answer.file if isinstance(answer, FileAnswer) else None
            if "Content-Length" not in answer.headers:
                self.send_header("Content-Length", str(len(answer.body)))
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("X-Content-Type-Options", "nosniff")
            for k, v in answer.headers.items():
                self.send_header(k, v)
            self.end_headers()
            if head:
                return
            if file is not None:
                with open(file, "rb") as fh:
                    while chunk := fh.read(1 << 16):
                        self.wfile.write(chunk)
            else:
                self.wfile.write(answer.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        sys.stderr.write(f"{self.address_string()} - [{self.log_date_time_string()}] {format % args}\n")


class Server(ThreadingHTTPServer):
    daemon_threads = True  # idle keep-alive connections must not hold up a shutdown
    request_queue_size = 256  # bursts of clients are queued by the kernel, not refused
    app: App


def default_workers() -> int:
    env = os.environ.get("WARTIME_KG_SERVE_WORKERS")
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    return max(4, min(8, os.cpu_count() or 4))


def serve(store_path: Path, host: str = "127.0.0.1", port: int = 7878, base: str | None = None, timeout: float = 10.0,
          seeds: Path | None = None, workers: int | None = None) -> int:
    """Serve the store until SIGTERM or SIGINT; returns the exit code. Workers are stopped on the way out."""
    if base and not re.match(r"^https?://[^/\s]+(/\S*)?$", base):
        raise KGError(f"--base must be an http(s) IRI, not {base!r}")
    if base and not base.endswith("/"):
        base += "/"
    if timeout <= 0:
        raise KGError("--timeout must be more than 0 seconds")
    site = Site(Path(store_path), base, seeds)
    try:
        httpd = Server((host, port), Handler)
    except OSError as exc:
        raise KGError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    bound_host, bound_port = httpd.server_address[:2]
    url = f"http://{bound_host if ':' not in str(bound_host) else f'[{bound_host}]'}:{bound_port}/"
    pool = QueryPool(site.location, workers or default_workers(), timeout)
    httpd.app = App(site, pool, url)
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGTERM, signal.SIGINT)}
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2}, name="kg-serve", daemon=True)
    thread.start()
    # the home page and VoID counts scan the whole graph once: do it now, not for the first visitor
    threading.Thread(target=lambda: (site.home(), site.void_counts()), name="kg-serve-warm", daemon=True).start()
    print(f"serving {site.dir.name} ({site.build.get('triples', '?')} triples) on {url} "
          f"(SPARQL at {url}query, {pool.size} query workers, timeout {timeout:g} s); Ctrl-C stops",
          file=sys.stderr, flush=True)
    try:
        while not stop.wait(0.5):
            if not thread.is_alive():
                break
    finally:
        httpd.shutdown()
        httpd.server_close()
        pool.close()
        for s, h in previous.items():
            signal.signal(s, h)
    print("stopped", file=sys.stderr, flush=True)
    return 0


__all__ = ["serve", "negotiate", "is_update", "QueryPool", "Site", "App"]
