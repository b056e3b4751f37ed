"""Where extraction runs: in this process, in a pool of worker processes, or on Dask.

Every executor yields the same (source, result) pairs in manifest order, and each document's result
depends only on that document, so the graph is identical whichever executor built it.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable, Iterator

from .build import DocResult
from .corpus import Source
from .errors import SourceError

_WORKER = None


def _init(model: str, linking_dir: str, cache: str | None) -> None:
    global _WORKER
    from .builder import Extractor

    _WORKER = Extractor(model, Path(linking_dir), Path(cache) if cache else None)


def _work(source: Source) -> tuple[DocResult | SourceError, bool]:
    try:
        return _WORKER.run(source)
    except SourceError as exc:
        return exc, False


def _dask_work(source: Source, model: str, linking_dir: str, cache: str | None) -> tuple[DocResult | SourceError, bool]:
    if _WORKER is None:
        _init(model, linking_dir, cache)
    return _work(source)


def run_extraction(
    sources: list[Source],
    model: str,
    linking_dir: Path,
    cache: Path | None,
    workers: int = 1,
    executor: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> Iterator[tuple[Source, DocResult | SourceError, bool]]:
    total = len(sources)
    args = (model, str(linking_dir), str(cache) if cache else None)
    if executor and executor.startswith("dask"):
        from dask.distributed import Client, LocalCluster

        address = executor.split("=", 1)[1] if "=" in executor else None
        cluster = None if address else LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True)
        client = Client(address or cluster)
        try:
            futures = [client.submit(_dask_work, s, *args, pure=False) for s in sources]
            for i, (s, f) in enumerate(zip(sources, futures), start=1):
                outcome, cached = f.result()
                if progress:
                    progress(s.file, i, total)
                yield s, outcome, cached
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
        return
    if workers > 1 and total > 1:
        with ProcessPoolExecutor(max_workers=min(workers, total), initializer=_init, initargs=args) as pool:
            for i, (s, (outcome, cached)) in enumerate(zip(sources, pool.map(_work, sources)), start=1):
                if progress:
                    progress(s.file, i, total)
                yield s, outcome, cached
        return
    _init(*args)
    for i, s in enumerate(sources, start=1):
        outcome, cached = _work(s)
        if progress:
            progress(s.file, i, total)
        yield s, outcome, cached
