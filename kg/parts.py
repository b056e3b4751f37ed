"""Named graphs on disk: the unit the build writes, caches, loads into the store and dumps.

A build is a handful of named graphs (the authority, one per source document, the minted entities,
the provenance). Each becomes a `Part`: its sorted N-Quads lines, the same as a gzip member, and its
Turtle as a gzip member. Keeping graphs apart, on disk, one at a time, is what lets the build

- stream: no graph of the whole corpus is ever held in memory, however many documents there are;
- skip work: a part whose inputs did not change is taken from the cache by key (the cache folder is
  per pipeline version, so code, model and authority are part of the key), and a store is patched
  graph by graph (see kg.store.write_store);
- write the dumps by concatenation: gzip members concatenate into a valid gzip stream, and Turtle
  documents with their own prefix lines concatenate into a valid Turtle document, so the full dumps
  are made of the parts without parsing or compressing the corpus again.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import URIRef

from .cachefiles import write_atomic
from .graph import Triples, nquad_lines


@dataclass
class Part:
    graph: str  # the named graph's IRI
    nq: Path  # sorted N-Quads lines of this graph alone
    quads: int
    sha256: str  # of the N-Quads bytes: what the store compares with the previous build
    nq_gz: Path  # the N-Quads as one gzip member
    ttl_gz: Path  # the graph as Turtle, one gzip member


def make_part(
    graph: URIRef,
    make: Callable[[], Triples],
    folder: Path,
    key: str | None,
    prefixes: dict[str, str],
    later: Callable[[Callable[[], None]], object] = lambda job: job(),
) -> Part:
    """The part of `graph`: from `folder` when it holds one made under `key`, otherwise made now (by
    calling `make`) and written there. Without a key the part is always made (small graphs whose inputs
    are cheaper to recompute than to key).

    The N-Quads file is written before this returns; the gzip and Turtle members are handed to `later`
    (by default: run now), which the builder points at its background thread: compressing and writing
    Turtle release the GIL, so they overlap with making the next part."""
    stem = key or _slug(str(graph))
    meta = folder / f"{stem}.json"
    nq, nq_gz, ttl_gz = folder / f"{stem}.nq", folder / f"{stem}.nq.gz", folder / f"{stem}.ttl.gz"
    if key:
        try:
            info = json.loads(meta.read_text(encoding="utf-8"))
            if info.get("graph") == str(graph) and nq.exists() and nq_gz.exists() and ttl_gz.exists():
                return Part(str(graph), nq, info["quads"], info["sha256"], nq_gz, ttl_gz)
        except (OSError, ValueError, KeyError):
            pass  # missing or torn: make it again
    data = b"".join(nquad_lines(graph, make()))
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(nq, data)
    part = Part(str(graph), nq, data.count(b"\n"), hashlib.sha256(data).hexdigest(), nq_gz, ttl_gz)

    def complete() -> None:
        write_atomic(nq_gz, gzip_member(data))
        write_atomic(ttl_gz, gzip_member(turtle(data, prefixes)))
        # the meta file is written last: a part is complete when its meta exists
        write_atomic(meta, json.dumps({"graph": part.graph, "quads": part.quads, "sha256": part.sha256}).encode())

    later(complete)
    return part


def turtle(nquads: bytes, prefixes: dict[str, str]) -> bytes:
    """The triples of some N-Quads as Turtle, in the order given (sorted lines group a subject's triples)."""
    triples = [q.triple for q in ox.parse(nquads, ox.RdfFormat.N_QUADS)]
    return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=turtle_prefixes(nquads, prefixes)) or b""


def turtle_prefixes(nquads: bytes, prefixes: dict[str, str]) -> dict[str, str]:
    """kg.store.safe_prefixes read off the N-Quads bytes: the prefixes under which no IRI of the data
    ends in "." (rdflib, the client most of our users have, fails on the escaped local name that such an
    IRI needs, so that namespace is left out and its IRIs are written in full)."""
    dotted = set()
    at = nquads.find(b".>")  # rare: look for the ends first, then back to each IRI's start
    while at >= 0:
        start = nquads.rfind(b"<", 0, at)
        if start >= 0 and b">" not in nquads[start:at]:
            dotted.add(nquads[start + 1 : at + 1].decode("utf-8"))
        at = nquads.find(b".>", at + 2)
    return {p: ns for p, ns in prefixes.items() if not any(iri.startswith(ns) for iri in dotted)}


def gzip_member(data: bytes) -> bytes:
    """One gzip member without a timestamp or a file name, so equal data gives equal bytes."""
    return gzip.compress(data, compresslevel=6, mtime=0)


def _slug(iri: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", iri.rsplit("/graph/", 1)[-1])
