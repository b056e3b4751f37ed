"""The Oxigraph store on disk, replaced only when a new one is complete.

Layout under the store directory DIR (default `data/store`, or `--store DIR`, or WARTIME_KG_STORE):

    DIR -> DIR.d/<build-id>/          (DIR is a symbolic link)
              oxigraph/                the pyoxigraph store
              dumps/graph.nq.gz        full dump, N-Quads
              dumps/graph.ttl.gz       full dump, Turtle (default graph = union)
              build.json               summary of the build

A build writes a new `<build-id>` directory next to the live one and, only when it is complete, swaps
the link with one atomic rename. A build killed midway leaves the old link, so the previous graph keeps
serving; old build directories are pruned afterwards.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import time
from pathlib import Path

import pyoxigraph as ox

from .errors import KGError

DEFAULT_STORE = Path("data/store")
KEEP_BUILDS = 2


def store_path(arg: str | os.PathLike | None) -> Path:
    if arg:
        return Path(arg)
    env = os.environ.get("WARTIME_KG_STORE")
    return Path(env) if env else DEFAULT_STORE


def builds_dir(link: Path) -> Path:
    return link.parent / (link.name + ".d")


def new_build_dir(link: Path) -> Path:
    base = builds_dir(link)
    base.mkdir(parents=True, exist_ok=True)
    d = base / f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    d.mkdir()
    return d


def write_store(build_dir: Path, nquads: bytes, prefixes: dict[str, str]) -> None:
    """Load the dataset into a fresh Oxigraph store and write the dumps next to it."""
    store = ox.Store(str(build_dir / "oxigraph"))
    store.bulk_load(nquads, ox.RdfFormat.N_QUADS)
    store.optimize()
    dumps = build_dir / "dumps"
    dumps.mkdir()
    _gzip(dumps / "graph.nq.gz", nquads)
    # Turtle has no named graphs: the dump is the union of all graphs, sorted for stable diffs
    triples = sorted({q.triple for q in store.quads_for_pattern(None, None, None)}, key=str)
    _gzip(dumps / "graph.ttl.gz", ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=safe_prefixes(triples, prefixes)))
    del store


def safe_prefixes(triples: list[ox.Triple], prefixes: dict[str, str]) -> dict[str, str]:
    """The prefixes that give every IRI of `triples` a plain prefixed name. A local name ending in "." is valid
    Turtle when escaped (dbr:Edward_Stettinius_Jr\\.) but rdflib, the client most of our users have, fails on
    it; such a namespace is left out and its IRIs are written in full."""
    bad = set()
    for t in triples:
        for term in (t.subject, t.predicate, t.object):
            if isinstance(term, ox.NamedNode) and term.value.endswith("."):
                bad |= {p for p, ns in prefixes.items() if term.value.startswith(ns)}
    return {p: ns for p, ns in prefixes.items() if p not in bad}


def _gzip(path: Path, data: bytes) -> None:
    """gzip without a timestamp in the header, so equal graphs give equal dump files."""
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as fh:
        fh.write(data)


def publish(link: Path, build_dir: Path) -> None:
    """Point the store link at `build_dir` atomically, then prune old builds that nothing points at."""
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.exists() and not link.is_symlink():
        raise KGError(f"{link}: exists and is not a store link made by kg build; move it away or choose --store")
    tmp = link.parent / f".{link.name}.tmp-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(os.path.relpath(build_dir, link.parent), tmp)
    os.replace(tmp, link)
    prune(link)


def prune(link: Path) -> None:
    base = builds_dir(link)
    if not base.exists():
        return
    live = link.resolve() if link.exists() else None
    builds = sorted((d for d in base.iterdir() if d.is_dir()), key=lambda d: d.name)
    complete = [d for d in builds if (d / "build.json").exists()]
    keep = set(complete[-KEEP_BUILDS:])
    if live:
        keep.add(live)
    for d in builds:
        if d in keep:
            continue
        # an unfinished build of a live process is not ours to delete
        pid = d.name.rsplit("-", 1)[-1]
        if not (d / "build.json").exists() and pid.isdigit() and _alive(int(pid)):
            continue
        shutil.rmtree(d, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def open_store(link: Path, read_only: bool = True) -> ox.Store:
    """Open the live store. Read-only opens never block a concurrent build."""
    target = link.resolve() / "oxigraph"
    if not target.exists():
        raise KGError(f"{link}: no built graph here; run `kg build` first (or pass --store DIR)")
    if read_only:
        return ox.Store.read_only(str(target))
    return ox.Store(str(target))


def build_info(link: Path) -> dict:
    f = link.resolve() / "build.json"
    return json.loads(f.read_text()) if f.exists() else {}
