"""SPARQL from clients runs here, in worker processes, so that a query can always be stopped.

Why worker processes and not the `oxigraph serve-read-only` binary: its `--timeout-s` does not stop a running
evaluation (an ORDER BY over a cartesian product keeps a core busy for minutes after the client gave up), and
pyoxigraph's `Store.query` has no timeout at all. A query that runs in a process of its own can always be
stopped: when it overruns `--timeout` the worker is killed and replaced, and the client gets a 504 that says
so. SPARQL is still evaluated and serialised by Oxigraph itself (pyoxigraph), never by code of ours.
"""

from __future__ import annotations

import ctypes
import gzip
import multiprocessing
import os
import queue
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ..namespaces import PREFIXES
from .answers import Answer, text_answer
from .formats import GRAPH_FORMATS, RESULTS_FORMATS, negotiate, turtle


@dataclass
class QueryJob:
    """One SPARQL request as a worker needs it (picklable)."""

    query: str
    accept: str | None
    default_graphs: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)


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


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies, so a killed server leaves no worker behind."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


# Up to this many quads, each query worker holds the graph in an in-memory Oxigraph store, read from the
# build's N-Quads dump when it starts: queries run 3 to 5 times faster than on the RocksDB store (the
# canned queries over the seeds, `python -m bench`), for about 0.65 KB of memory per quad and worker
# (75 MB per worker for the seeds' 120,000 quads) and half a second per worker start.
IN_MEMORY_QUADS = 250_000


def in_memory_dump(build_dir: Path, build: dict, mode: str = "auto") -> Path | None:
    """The dump the query workers load into memory, or None when they read the on-disk store.
    `mode`: "auto" (in memory up to IN_MEMORY_QUADS quads), "always" or "never"."""
    dump = build_dir / "dumps" / "graph.nq.gz"
    if mode == "never" or not dump.exists():
        return None
    if mode == "always" or int(build.get("triples") or IN_MEMORY_QUADS + 1) <= IN_MEMORY_QUADS:
        return dump
    return None


def query_store(location: str, dump: str | None = None) -> ox.Store:
    """The store a query worker answers from: the read-only on-disk store, or the same quads in memory."""
    if dump is None:
        return ox.Store.read_only(location)
    store = ox.Store()
    with gzip.open(dump, "rb") as fh:
        store.bulk_load(input=fh, format=ox.RdfFormat.N_QUADS)
    return store


def _worker_main(conn, location: str, parent: int, dump: str | None = None) -> None:
    """A query worker: one Oxigraph store (read-only on disk, or in memory), one query at a time, for as
    long as the pipe is open."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the front decides
    if os.getppid() != parent:
        return
    store = query_store(location, dump)
    try:
        conn.send(READY)  # the store is open (or loaded): from now on the query timeout applies
    except (OSError, ValueError):
        return
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


READY = "ready"
STARTUP_TIMEOUT = 120.0  # seconds a new worker may take to open its store (loading a graph into memory)


class _Worker:
    def __init__(self, ctx, location: str, dump: str | None = None) -> None:
        self.ready = False  # set once the worker has said so: its start-up is not charged to a query
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child, location, os.getpid(), dump), daemon=True,
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

    def __init__(self, location: Path, size: int, timeout: float, dump: Path | None = None) -> None:
        self.location = str(location)
        self.dump = str(dump) if dump else None  # held in memory by every worker (see IN_MEMORY_QUADS)
        self.timeout = timeout
        self.size = size
        self._ctx = multiprocessing.get_context("spawn")
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False
        started = [self._spawn() for _ in range(size)]
        for w in started:  # the server says it is serving once its workers can answer
            if w.conn.poll(STARTUP_TIMEOUT) and w.conn.recv() == READY:
                w.ready = True
            self._idle.put(w)

    def _spawn(self) -> _Worker:
        w = _Worker(self._ctx, self.location, self.dump)
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
            if not w.ready:
                if not w.conn.poll(STARTUP_TIMEOUT) or w.conn.recv() != READY:
                    self._retire(w)
                    return text_answer(503, "a query worker could not open the store; try again shortly",
                                       **{"Retry-After": "5"})
                w.ready = True
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


def default_workers() -> int:
    env = os.environ.get("WARTIME_KG_SERVE_WORKERS")
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    return max(4, min(8, os.cpu_count() or 4))
