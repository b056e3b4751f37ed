"""The canned queries on Oxigraph against the same queries on rdflib's in-memory graph.

Both engines see the same data, the build's N-Quads dump, with the default graph as the union of the
named graphs (pyoxigraph: `use_default_graph_as_union=True` on the store as `kg serve` queries it: for
a graph of up to kg.serve.pool.IN_MEMORY_QUADS quads, such as the seeds', an in-memory store loaded from
the dump, otherwise the read-only RocksDB store of the build; rdflib: a Dataset with
`default_union=True` parsed from dumps/graph.nq.gz). When the served store is the in-memory one, every
query also runs on the RocksDB store, and that median speed-up is reported too ("speedup_on_disk"). Loading is outside the
timed region on both sides; a query's time includes iterating over every result row. Each query runs
up to `repeat` times per engine and the best time counts (rdflib stops repeating a query once it has
spent `budget` seconds on it). The queries are queries/*.rq; while that folder holds none, a built-in
set of the same kinds of query stands in, and the report says so.

Each engine is timed in the same process, one after the other, and neither with the other's data in
memory: every query on Oxigraph first, then the rdflib Dataset is loaded and every query runs on it.
As `timeit` does, the garbage collector is run before and switched off during each timed run. (An
earlier version ran the engines query by query with the rdflib Dataset, some millions of Python
objects, already loaded: the collection before each run then swept that heap and left the CPU caches
cold, which doubled the time of Oxigraph's sub-millisecond queries and cost rdflib nothing visible.)
"""

from __future__ import annotations

import gc
import gzip
import json
import signal
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rdflib import Dataset

from kg.namespaces import sparql_prologue
from kg.serve.pool import in_memory_dump, query_store
from kg.store import open_store

QUERIES_DIR = Path(__file__).resolve().parent.parent / "queries"

# Stand-ins with the shapes canned queries have: aggregates over mentions, joins of annotations with
# messages and dates, co-occurrence, a text filter, the authority's offices.
FALLBACK: dict[str, str] = {
    "most-mentioned": """
SELECT ?entity (COUNT(?a) AS ?n) WHERE { ?a a oa:Annotation ; oa:hasBody ?entity . }
GROUP BY ?entity ORDER BY DESC(?n) ?entity LIMIT 25""",
    "correspondence": """
SELECT ?sender ?recipient (COUNT(?m) AS ?n) WHERE {
  ?m a schema:Message ; schema:sender ?sender ; schema:recipient ?recipient .
  FILTER NOT EXISTS { ?m wkg:stub true } }
GROUP BY ?sender ?recipient ORDER BY DESC(?n)""",
    "mentions-by-year": """
SELECT ?year ?type (COUNT(?a) AS ?n) WHERE {
  ?a wkg:inMessage ?m ; wkg:mentionType ?type .
  ?m schema:dateSent|schema:dateCreated ?d .
  BIND(YEAR(?d) AS ?year) }
GROUP BY ?year ?type ORDER BY ?year ?type""",
    "co-mentions": """
SELECT ?e1 ?e2 (COUNT(DISTINCT ?m) AS ?n) WHERE {
  ?a1 wkg:inMessage ?m ; oa:hasBody ?e1 . ?a2 wkg:inMessage ?m ; oa:hasBody ?e2 .
  FILTER(STR(?e1) < STR(?e2)) }
GROUP BY ?e1 ?e2 ORDER BY DESC(?n) LIMIT 50""",
    "quote-search": """
SELECT ?m ?exact ?start WHERE {
  ?a wkg:inMessage ?m ; oa:hasTarget ?t . ?t oa:hasSelector ?q, ?p .
  ?q oa:exact ?exact . ?p oa:start ?start .
  FILTER(CONTAINS(LCASE(?exact), "front")) }
ORDER BY ?m ?start""",
    "replies": """
SELECT ?m ?cited ?label WHERE { ?m as:inReplyTo ?cited . ?cited rdfs:label ?label . } ORDER BY ?m ?cited""",
    "office-holders-mentioned": """
SELECT ?person ?post (COUNT(?a) AS ?n) WHERE {
  ?person org:holds ?post . ?a oa:hasBody ?person . }
GROUP BY ?person ?post ORDER BY DESC(?n)""",
    "unreviewed": """
SELECT ?e ?label (COUNT(?a) AS ?n) WHERE {
  ?e wkg:reviewed false ; skos:prefLabel ?label . OPTIONAL { ?a oa:hasBody ?e } }
GROUP BY ?e ?label ORDER BY DESC(?n) ?e""",
}


@dataclass
class QueryTiming:
    name: str
    oxigraph: float
    rdflib: float
    rows_oxigraph: int
    rows_rdflib: int | None  # None: rdflib did not finish within the time cap
    on_disk: float = 0.0  # the same query on the read-only RocksDB store (= oxigraph when that is what is served)

    @property
    def speedup(self) -> float:
        return self.rdflib / self.oxigraph if self.oxigraph > 0 else float("inf")


def canned_queries() -> tuple[dict[str, str], str]:
    """The queries to run and where they came from."""
    files = sorted(QUERIES_DIR.glob("*.rq"))
    if files:
        return {f.stem: f.read_text(encoding="utf-8") for f in files}, f"{QUERIES_DIR.name}/*.rq ({len(files)} files)"
    return dict(FALLBACK), "built-in stand-ins (queries/ holds no .rq file yet)"


def _with_prologue(text: str) -> str:
    """As `kg query` does: our prefixes, unless the query declares its own."""
    return text if "PREFIX" in text.upper() else sparql_prologue() + text


def _count_ox(result: Any) -> int:
    if isinstance(result, bool):
        return 1
    return sum(1 for _ in result)


def _count_rdflib(result: Any) -> int:
    if result.type == "ASK":
        return 1
    if result.type in ("CONSTRUCT", "DESCRIBE"):
        return len(result.graph)
    return sum(1 for _ in result)


class _Timeout(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _Timeout


def _best(fn: Callable[[], int], repeat: int, budget: float, cap: float | None = None) -> tuple[float, int | None]:
    """Best time of up to `repeat` runs, stopping once `budget` seconds are spent. With `cap`, a run
    is interrupted after that many seconds (SIGALRM; rdflib evaluates in Python, so it is interruptible)
    and the cap is returned as the time, a lower bound, with no row count."""
    best, rows, spent = float("inf"), 0, 0.0
    for _ in range(repeat):
        gc.collect()
        if cap:
            old = signal.signal(signal.SIGALRM, _alarm)
            signal.setitimer(signal.ITIMER_REAL, cap)
        gc.disable()
        t0 = time.perf_counter()
        try:
            rows = fn()
        except _Timeout:
            return cap or 0.0, None
        finally:
            took = time.perf_counter() - t0
            gc.enable()
            if cap:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, old)
        best, spent = min(best, took), spent + took
        if spent >= budget:
            break
    return best, rows


def compare(
    store_link: Path, repeat: int, log: Callable[[str], None], budget: float = 20.0, cap: float = 60.0
) -> tuple[list[QueryTiming], dict[str, Any]]:
    """Per-query timings on both engines and facts about the comparison (load times, query source).
    An rdflib run longer than `cap` seconds is stopped: its time counts as `cap`, which understates
    that query's speed-up (a lower bound), so the median can only be too low, never too high."""
    queries, origin = canned_queries()
    log(f"SPARQL: {len(queries)} queries from {origin}")
    build_dir = store_link.resolve()
    build = json.loads((build_dir / "build.json").read_text(encoding="utf-8"))
    dump = in_memory_dump(build_dir, build)  # what `kg serve` does with a graph of this size
    t0 = time.perf_counter()
    oxs = query_store(str(build_dir / "oxigraph"), str(dump) if dump else None)
    ox_open = time.perf_counter() - t0
    on_disk = open_store(store_link) if dump else oxs
    on_ox: dict[str, tuple[float, int]] = {}
    disk: dict[str, float] = {}
    for name, text in queries.items():
        q = _with_prologue(text)
        try:
            t_ox, n_ox = _best(lambda q=q: _count_ox(oxs.query(q, use_default_graph_as_union=True)), repeat, budget)
            on_ox[name] = (t_ox, n_ox or 0)
            disk[name] = _best(lambda q=q: _count_ox(on_disk.query(q, use_default_graph_as_union=True)), repeat, budget)[0] if dump else t_ox
        except (SyntaxError, OSError, ValueError) as exc:
            log(f"  {name}: skipped, Oxigraph rejects it ({exc})")
    t0 = time.perf_counter()
    ds = Dataset(default_union=True)
    ds.parse(data=gzip.decompress((build_dir / "dumps" / "graph.nq.gz").read_bytes()), format="nquads")
    rdflib_load = time.perf_counter() - t0
    out: list[QueryTiming] = []
    for name, text in queries.items():
        if name not in on_ox:
            continue
        t_ox, n_ox = on_ox[name]
        q = _with_prologue(text)
        try:
            t_rd, n_rd = _best(lambda q=q: _count_rdflib(ds.query(q)), repeat, budget, cap)
        except Exception as exc:  # rdflib raises parser- and evaluator-specific types
            log(f"  {name}: skipped, rdflib fails on it ({type(exc).__name__}: {exc})")
            continue
        out.append(QueryTiming(name, t_ox, t_rd, n_ox, n_rd, disk[name]))
        if n_rd is None:
            flag = f"  rdflib stopped after {cap:.0f} s (speed-up is a lower bound)"
        else:
            flag = "" if n_ox == n_rd else f"  ROW COUNTS DIFFER (oxigraph {n_ox}, rdflib {n_rd})"
        log(f"  {name}: oxigraph {t_ox * 1000:.1f} ms (on disk {disk[name] * 1000:.1f} ms), rdflib {t_rd * 1000:.0f} ms, "
            f"{n_ox} rows{flag}")
    facts = {
        "origin": origin,
        "oxigraph_store": "in memory, as kg serve holds it" if dump else "on disk (read-only RocksDB), as kg serve reads it",
        "speedup_on_disk": round(statistics.median(t.rdflib / t.on_disk for t in out), 1) if out else None,
        "triples": len(ds),
        "oxigraph_open_s": round(ox_open, 3),
        "rdflib_load_s": round(rdflib_load, 2),
        "mismatched": [t.name for t in out if t.rows_rdflib is not None and t.rows_oxigraph != t.rows_rdflib],
        "capped": [t.name for t in out if t.rows_rdflib is None],
    }
    return out, facts


def median_speedup(timings: list[QueryTiming]) -> float | None:
    return statistics.median(t.speedup for t in timings) if timings else None
