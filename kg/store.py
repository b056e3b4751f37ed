"""The Oxigraph store on disk, replaced only when a new one is complete.

Layout under the store directory DIR (default `data/store`, or `--store DIR`, or WARTIME_KG_STORE):

    DIR -> DIR.d/<build-id>/          (DIR is a symbolic link)
              oxigraph/                the pyoxigraph store
              dumps/graph.nq.gz        full dump, N-Quads (graph by graph, each sorted)
              dumps/graph.ttl.gz       full dump, Turtle (the union of the graphs, graph by graph)
              build.json               summary of the build

A build writes a new `<build-id>` directory next to the live one and, only when it is complete, swaps
the link with one atomic rename. A build killed midway leaves the old link, so the previous graph keeps
serving; old build directories are pruned afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from .errors import KGError

if TYPE_CHECKING:  # kg.parts imports the graph code and spaCy with it; the server reads stores without them
    from .parts import Part

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
    # sortable by time (prune keeps the newest), unique per process even for builds in the same second
    now = time.time()
    d = base / f"{time.strftime('%Y%m%dT%H%M%S', time.localtime(now))}.{int(now % 1 * 1e6):06d}-{os.getpid()}"
    d.mkdir()
    return d


STORE_FORMAT = 2  # build.json "graphs" and a store made of them: a store of another format is never patched
PATCH_LIMIT = 0.25  # patch the previous store when at most this share of the quads changes, else load anew


class FreshStore:
    """A new Oxigraph store that parts are bulk-loaded into as they are made (on the builder's
    background thread: the bulk loader releases the GIL, so it overlaps with making the next part)."""

    def __init__(self, build_dir: Path):
        self.path = build_dir / "oxigraph"
        self.store: ox.Store | None = None

    def load(self, part: Part) -> None:
        if self.store is None:
            self.store = ox.Store(str(self.path))
        self.store.bulk_load(path=str(part.nq), format=ox.RdfFormat.N_QUADS)

    def close(self) -> None:
        if self.store is None:
            self.store = ox.Store(str(self.path))
        self.store.optimize()
        self.store = None


def write_store(build_dir: Path, parts: list[Part], previous: Path | None, fresh: FreshStore | None = None) -> str:
    """The Oxigraph store and the dumps of the build in `build_dir`, from the parts (sorted by graph).

    `fresh`: a store the parts were already loaded into, as they were made. Otherwise, when the
    previous build (`previous`, the live build directory) recorded its graphs and few of them changed,
    its store is copied (a RocksDB backup: hard links, no data copied) and only the changed graphs are
    dropped and loaded again; failing that every part is bulk-loaded into a new store. Either way the
    store holds exactly the quads of the parts. Returns "loaded" or "patched"."""
    if fresh is not None:
        fresh.close()
        how: str | None = "loaded"
    else:
        how = _patch(build_dir, parts, previous) if previous is not None else None
    if how is None:
        fresh = FreshStore(build_dir)
        for part in parts:
            fresh.load(part)
        fresh.close()
        how = "loaded"
    dumps = build_dir / "dumps"
    dumps.mkdir()
    concatenate([p.nq_gz for p in parts], dumps / "graph.nq.gz")
    concatenate([p.ttl_gz for p in parts], dumps / "graph.ttl.gz")
    return how


def patchable(previous: Path | None) -> bool:
    """Whether the previous build recorded what a patch needs (its graphs, in this store format)."""
    if previous is None or not (previous / "oxigraph").is_dir():
        return False
    try:
        info = json.loads((previous / "build.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return info.get("store_format") == STORE_FORMAT and bool(info.get("graphs"))


def _patch(build_dir: Path, parts: list[Part], previous: Path) -> str | None:
    try:
        info = json.loads((previous / "build.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    before: dict[str, dict] = info.get("graphs") or {}
    if info.get("store_format") != STORE_FORMAT or not before or not (previous / "oxigraph").is_dir():
        return None
    changed = [p for p in parts if before.get(p.graph, {}).get("sha256") != p.sha256]
    gone = [g for g in before if g not in {p.graph for p in parts}]
    churn = sum(p.quads + before.get(p.graph, {}).get("quads", 0) for p in changed) + sum(before[g].get("quads", 0) for g in gone)
    if churn > PATCH_LIMIT * max(1, sum(p.quads for p in parts)):
        return None
    try:
        ox.Store.read_only(str(previous / "oxigraph")).backup(str(build_dir / "oxigraph"))
    except OSError:
        shutil.rmtree(build_dir / "oxigraph", ignore_errors=True)
        return None
    store = ox.Store(str(build_dir / "oxigraph"))
    for g in [*gone, *(p.graph for p in changed if p.graph in before)]:
        store.remove_graph(ox.NamedNode(g))
    for part in changed:
        store.bulk_load(path=str(part.nq), format=ox.RdfFormat.N_QUADS)
    del store
    return "patched"


def graphs_record(parts: list[Part]) -> dict[str, dict]:
    """What build.json records of the parts, for the next build to compare with."""
    return {p.graph: {"sha256": p.sha256, "quads": p.quads} for p in parts}


def concatenate(paths: list[Path], target: Path) -> None:
    """Concatenate files (gzip members of the parts) into `target`, a block at a time."""
    with open(target, "wb") as out:
        for p in paths:
            with open(p, "rb") as fh:
                while block := fh.read(1 << 20):
                    out.write(block)


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
        if d in keep or served(d):
            continue
        # an unfinished build of a live process is not ours to delete
        pid = d.name.rsplit("-", 1)[-1]
        if not (d / "build.json").exists() and pid.isdigit() and _alive(int(pid)):
            continue
        shutil.rmtree(d, ignore_errors=True)


SERVED = ".served-by-"  # + pid: a marker `kg serve` leaves in the build directory it serves


def mark_served(build_dir: Path) -> Path | None:
    """Mark `build_dir` as served by this process, so that later builds do not prune it from under a
    running `kg serve` (which reads that directory until it is restarted). None if it cannot be marked."""
    marker = build_dir / f"{SERVED}{os.getpid()}"
    try:
        marker.touch()
    except OSError:
        return None
    return marker


def served(build_dir: Path) -> bool:
    """Whether a live process serves `build_dir` (markers of dead servers are removed)."""
    alive = False
    for marker in build_dir.glob(f"{SERVED}*"):
        pid = marker.name.removeprefix(SERVED)
        if pid.isdigit() and _alive(int(pid)):
            alive = True
        else:
            marker.unlink(missing_ok=True)
    return alive


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
