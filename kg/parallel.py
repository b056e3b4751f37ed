"""Where extraction runs: in this process, in a pool of worker processes, or on Dask.

Every executor yields the same (source, result, cached) triples in manifest order, and each document's
result depends only on that document (its text, its manifest entry and the pipeline version), so the
graph is identical whichever executor built it; tests/test_parallel.py checks that byte for byte.

The per-document cache is read and written here, in the coordinating process, not in the workers:

- a cache hit costs one file read and never starts a worker, a Dask cluster or the spaCy pipeline, so a
  rebuild after editing one document loads the model once, for that document only, and a rebuild with
  nothing changed loads no model at all;
- workers of a remote Dask cluster need no shared file system with the machine running `kg build`;
- there is one writer per cache file, so concurrent workers never race on it.

The key is the pipeline version (code, model, authority), the file's content and its manifest entry.

Results are yielded as the caller consumes them, with at most two parses per worker running ahead, and
cached results are read when their turn comes: the generator never holds the corpus, so a builder that
streams stays flat in memory however many documents there are.

To look the cache up before any model is loaded, the pipeline version is computed from the model
package's meta.json and the authority files (`light_pipeline_version`), which is what
`kg.build.pipeline_version` reads from the loaded pipeline; a test checks that the two agree.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from .build import DocDigest, DocResult, pipeline_version
from .cachefiles import write_atomic
from .corpus import Source
from .errors import SourceError

if TYPE_CHECKING:
    from .builder import Extractor

# One pipeline per worker process and per (model, linking dir, pipeline version): a long-lived Dask
# worker keeps its model between builds, and reloads it when the model, the authority or the code changed.
_WORKERS: dict[tuple[str, str, str], Extractor] = {}

# What crosses a process boundary: a DocResult, or (path, problem) of a SourceError. SourceError itself
# does not survive pickling (its __init__ takes two arguments, Exception.__reduce__ passes one).
Outcome = DocResult | tuple[str, str]


def light_pipeline_version(model: str, linking_dir: Path) -> str | None:
    """kg.build.pipeline_version without loading the model: the model's name and version come from
    its meta.json, the authority files are the ones load_authority reads (sorted authority/*.ttl).
    None when the model package cannot be found (the cache is then not used before the model loads)."""
    import spacy

    from .extract import MODELS

    name = MODELS.get(model, model)
    try:
        path = Path(name) if Path(name).is_dir() else spacy.util.get_package_path(name)
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    except Exception:
        return None
    authority = SimpleNamespace(files=sorted((linking_dir / "authority").glob("*.ttl")))
    return pipeline_version(SimpleNamespace(meta=meta), authority)  # type: ignore[arg-type]


def cache_file(cache: Path, version: str, source: Source, sha256: str) -> Path:
    """Where a document's result is cached: keyed by pipeline version, file name, content and the
    document's manifest entry (a document's sender, recipients, date and kind come from the manifest,
    so correcting them must not be answered from the cache; any other edit of the entry re-parses
    that one document too, which is cheap next to ever serving a stale result)."""
    import hashlib

    entry = json.dumps({k: v for k, v in sorted(vars(source).items()) if k != "path"}, sort_keys=True, default=str)
    key = hashlib.sha256(f"{sha256}\n{entry}".encode()).hexdigest()
    return cache / version / f"{source.file}.{key[:20]}.json"


def digest_file(path: Path) -> Path:
    """The digest (kg.build.DocDigest) cached next to a document's result."""
    return path.with_name(path.name.removesuffix(".json") + ".digest.json")


def _read_cached(path: Path) -> DocDigest | None:
    """The digest of a cached result (the whole result where a digest is missing), or None when the
    result is missing or unreadable (a torn or stale file is a miss)."""
    if not path.exists():
        return None
    try:
        return DocDigest.from_json(digest_file(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    try:
        return DocResult.from_json(path.read_text(encoding="utf-8")).digest()
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_cached(path: Path, result: DocResult) -> None:
    """Write atomically, so a killed build never leaves half a cache file for the next one to trust;
    the result first, then its digest."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for target, text in ((path, result.to_json()), (digest_file(path), result.digest().to_json())):
        write_atomic(target, text.encode("utf-8"))


def _extractor(model: str, linking_dir: str, version: str, cache: str | None = None) -> Extractor:
    from .builder import Extractor

    key = (model, linking_dir, version)
    if key not in _WORKERS:
        _WORKERS.clear()  # at most one pipeline per process: a new model replaces the old one
        _WORKERS[key] = Extractor(model, Path(linking_dir), Path(cache) if cache else None)
    return _WORKERS[key]


def _work(source: Source, model: str, linking_dir: str, version: str, cache: str | None = None) -> Outcome:
    """Parse one document in this process (a pool worker, a Dask worker or the caller itself).
    `cache`: the build's cache folder where this process can read it (not on Dask), for the authority
    and the entity ruler's patterns."""
    try:
        return _extractor(model, linking_dir, version, cache).run(source)
    except SourceError as exc:
        return (exc.path, exc.problem)
    except OSError as exc:
        if exc.filename is not None and Path(exc.filename) == source.path:  # the source itself vanished
            return (str(source.path), f"cannot read the file ({exc.strerror or exc})")
        raise  # the model, the authority...: not this document's fault, and fatal for all of them


def _finish(outcome: Outcome, target: Path | None) -> DocResult | SourceError:
    """Back in the coordinating process: rebuild the error, or cache the result."""
    if isinstance(outcome, tuple):
        return SourceError(*outcome)
    if target is not None:
        _write_cached(target, outcome)
    return outcome


class _Later:
    """A "future" that runs in this process when its result is asked for (the serial executor)."""

    def __init__(self, fn: Callable[..., Outcome], *args: Any) -> None:
        self.fn, self.args = fn, args

    def result(self) -> Outcome:
        return self.fn(*self.args)


def run_extraction(
    sources: list[Source],
    model: str,
    linking_dir: Path,
    cache: Path | None,
    workers: int = 1,
    executor: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> Iterator[tuple[Source, DocResult | DocDigest | SourceError, bool]]:
    """Results of every source in manifest order: from the cache where it holds the document,
    otherwise parsed serially, by `workers` processes, or on Dask (`executor` "dask" or "dask=ADDRESS").

    Results are produced as the caller consumes them: cached ones are read when their turn comes, and
    at most a small window of parses runs ahead of the caller, so however large the corpus, this
    generator holds a few documents' results at a time (a streaming caller stays flat in memory)."""
    total = len(sources)
    version = light_pipeline_version(model, linking_dir)
    # the process-local key of the pipeline; when meta.json is unreadable the model decides at load time
    args = (model, str(linking_dir), version or f"unversioned-{model}")
    # processes on this machine also get the cache folder (for the authority); Dask workers may be elsewhere
    here = (*args, str(cache) if cache is not None else None)

    # 1. which documents the cache holds (read later, one at a time)
    targets: list[Path | None] = [None] * total
    shas: list[str | None] = [None] * total
    if cache is not None and version is not None:
        for i, s in enumerate(sources):
            try:
                shas[i] = s.sha256()
            except (OSError, SourceError):
                continue  # the parse reports it as a SourceError
            targets[i] = cache_file(cache, version, s, shas[i])
    hit_set = {i for i, t in enumerate(targets) if t is not None and t.exists()}
    misses = [i for i in range(total) if i not in hit_set]

    # 2. the misses on the chosen executor
    pool: ProcessPoolExecutor | None = None
    dask: tuple[Any, Any] | None = None
    if misses and executor and executor.startswith("dask"):
        dask = _dask_client(executor, workers, len(misses))
        client = dask[0]
        window = 2 * max(1, len(client.scheduler_info().get("workers", {})))

        def submit(i: int) -> Any:
            return client.submit(_work, sources[i], *args, pure=False)
    elif len(misses) > 1 and workers > 1:
        n = min(workers, len(misses))
        pool = ProcessPoolExecutor(max_workers=n)
        window = 2 * n

        def submit(i: int) -> Any:
            return pool.submit(_work, sources[i], *here)
    else:
        window = 1

        def submit(i: int) -> Any:
            return _Later(_work, sources[i], *here)

    pending: dict[int, Any] = {}
    queue = iter(misses)

    def top_up() -> None:
        while len(pending) < window:
            i = next(queue, None)
            if i is None:
                return
            pending[i] = submit(i)

    try:
        top_up()
        for i in range(total):
            outcome: DocResult | DocDigest | SourceError | None = None
            cached = False
            if i in hit_set:
                hit = _read_cached(targets[i])  # type: ignore[arg-type]
                if hit is not None and hit.sha256 == shas[i] and hit.source == sources[i].file:
                    outcome, cached = hit, True
                else:  # torn or stale: parse it here, now
                    outcome = _finish(_work(sources[i], *here), targets[i])
            else:
                result = pending.pop(i).result()
                top_up()  # keep the workers busy while the caller handles this one
                outcome = _finish(result, targets[i])
            if progress:
                progress(sources[i].file, i + 1, total)
            yield sources[i], outcome, cached
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        if dask is not None:
            dask[0].close()
            if dask[1] is not None:
                dask[1].close()
        _WORKERS.clear()  # the caller's process: do not keep a model alive after the build


def _dask_client(executor: str, workers: int, misses: int) -> tuple[Any, Any]:
    """(client, local cluster or None): a LocalCluster of single-threaded worker processes, or the
    scheduler at ADDRESS ("dask=tcp://host:8786"). Workers need the same kg code, model package and
    linking/ directory (at the same path); they need no access to the cache or the store."""
    from dask.distributed import Client, LocalCluster

    address = executor.split("=", 1)[1] if "=" in executor else None
    if address:
        return Client(address), None
    # `--workers` sizes the local cluster; left at 1 it means "not said": one worker per core (at most
    # four, each holds a model) and never more than there are documents to parse
    n = workers if workers > 1 else min(os.cpu_count() or 1, 4)
    cluster = LocalCluster(n_workers=max(1, min(n, misses)), threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=40)
    return Client(cluster), cluster
