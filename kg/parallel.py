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

To look the cache up before any model is loaded, the pipeline version is computed from the model
package's meta.json and the authority files (`light_pipeline_version`), which is what
`kg.build.pipeline_version` reads from the loaded pipeline; a test checks that the two agree.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from .build import DocResult, pipeline_version
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
    """Where a document's result is cached: keyed by pipeline version, file name and content."""
    return cache / version / f"{source.file}.{sha256[:20]}.json"


def _read_cached(path: Path) -> DocResult | None:
    """A cached result, or None when it is missing or unreadable (a torn or stale file is a miss)."""
    try:
        return DocResult.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_cached(path: Path, result: DocResult) -> None:
    """Write atomically, so a killed build never leaves half a cache file for the next one to trust."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(result.to_json(), encoding="utf-8")
    os.replace(tmp, path)


def _extractor(model: str, linking_dir: str, version: str) -> Extractor:
    from .builder import Extractor

    key = (model, linking_dir, version)
    if key not in _WORKERS:
        _WORKERS.clear()  # at most one pipeline per process: a new model replaces the old one
        _WORKERS[key] = Extractor(model, Path(linking_dir), None)
    return _WORKERS[key]


def _work(source: Source, model: str, linking_dir: str, version: str) -> Outcome:
    """Parse one document in this process (a pool worker, a Dask worker or the caller itself)."""
    try:
        outcome, _ = _extractor(model, linking_dir, version).run(source)
        return outcome
    except SourceError as exc:
        return (exc.path, exc.problem)
    except OSError as exc:  # e.g. the file vanished between the manifest check and the parse
        return (str(source.path), f"cannot read the file ({exc.strerror or exc})")


def _finish(source: Source, outcome: Outcome, target: Path | None) -> DocResult | SourceError:
    if isinstance(outcome, tuple):
        return SourceError(*outcome)
    if target is not None:
        _write_cached(target, outcome)
    return outcome


def run_extraction(
    sources: list[Source],
    model: str,
    linking_dir: Path,
    cache: Path | None,
    workers: int = 1,
    executor: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> Iterator[tuple[Source, DocResult | SourceError, bool]]:
    """Results of every source in manifest order: from the cache where it holds the document,
    otherwise parsed serially, by `workers` processes, or on Dask (`executor` "dask" or "dask=ADDRESS")."""
    total = len(sources)
    version = light_pipeline_version(model, linking_dir)
    # the process-local key of the pipeline; when meta.json is unreadable the model decides at load time
    key = version or f"unversioned-{model}"

    # 1. the cache, in this process
    hits: dict[int, DocResult] = {}
    targets: dict[int, Path | None] = {}
    for i, s in enumerate(sources):
        targets[i] = None
        if cache is None or version is None:
            continue
        try:
            sha = s.sha256()
        except OSError:
            continue  # the parse reports it as a SourceError
        targets[i] = cache_file(cache, version, s, sha)
        hit = _read_cached(targets[i])
        if hit is not None and hit.sha256 == sha and hit.source == s.file:
            hits[i] = hit
    misses = [i for i in range(total) if i not in hits]
    args = (model, str(linking_dir), key)

    def emit(i: int, outcome: DocResult | SourceError, cached: bool) -> tuple[Source, DocResult | SourceError, bool]:
        if progress:
            progress(sources[i].file, i + 1, total)
        return sources[i], outcome, cached

    # 2. the misses, on the chosen executor; results come back in manifest order
    if misses and executor and executor.startswith("dask"):
        yield from _run_dask(sources, hits, misses, targets, args, executor, workers, emit)
        return
    if len(misses) > 1 and workers > 1:
        with ProcessPoolExecutor(max_workers=min(workers, len(misses))) as pool:
            futures: dict[int, Future[Outcome]] = {i: pool.submit(_work, sources[i], *args) for i in misses}
            for i in range(total):
                if i in hits:
                    yield emit(i, hits.pop(i), True)
                else:
                    yield emit(i, _finish(sources[i], futures.pop(i).result(), targets[i]), False)
        return
    try:
        for i in range(total):
            if i in hits:
                yield emit(i, hits.pop(i), True)
            else:
                yield emit(i, _finish(sources[i], _work(sources[i], *args), targets[i]), False)
    finally:
        _WORKERS.clear()  # the caller's process: do not keep a model alive after the build


def _run_dask(
    sources: list[Source],
    hits: dict[int, DocResult],
    misses: list[int],
    targets: dict[int, Path | None],
    args: tuple[str, str, str],
    executor: str,
    workers: int,
    emit: Callable[[int, DocResult | SourceError, bool], tuple[Source, DocResult | SourceError, bool]],
) -> Iterator[tuple[Source, DocResult | SourceError, bool]]:
    """Misses on Dask: a LocalCluster of `workers` single-threaded processes, or the scheduler at
    ADDRESS. The workers need the same kg code, model package and linking/ directory (at the same path)."""
    from dask.distributed import Client, LocalCluster

    address = executor.split("=", 1)[1] if "=" in executor else None
    cluster: Any = None
    if address is None:
        cluster = LocalCluster(
            n_workers=max(1, min(workers, len(misses))), threads_per_worker=1, processes=True,
            dashboard_address=None, silence_logs=40,
        )
    client = Client(address or cluster)
    try:
        futures = {i: client.submit(_work, sources[i], *args, pure=False) for i in misses}
        for i in range(len(sources)):
            if i in hits:
                yield emit(i, hits.pop(i), True)
            else:
                outcome = futures.pop(i).result()
                yield emit(i, _finish(sources[i], outcome, targets[i]), False)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
