"""Where a build's time goes, without a profiler's overhead: wrap the handful of stage functions that
kg.builder.build calls (a few calls per build, so the wrappers cost nothing measurable) and add up the
seconds spent in each. The timed builds of the bench run under this, so the breakdown printed is the
breakdown of the very runs that give the ratios."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import kg.builder as builder
import kg.parallel as parallel

# builder-module globals that are stages of build(), in the order build() runs them
_BUILDER_STAGES = [
    "load_authority",
    "link_citations",
    "make_part",  # a named graph: rdflib triples -> sorted N-Quads, gzip and Turtle members (or the cache)
    "write_store",  # Oxigraph store (loaded, or the previous one patched) and the dumps
    "publish",
]


def _timed(fn: Callable[..., Any], name: str, acc: dict[str, float], busy: set[str] | None = None) -> Callable[..., Any]:
    """Add the call's seconds to acc[name], unless it runs nested inside extraction (`busy`): the
    Extractor loads the authority too, and that belongs to "model load", not to build()'s own load."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if busy:
            return fn(*args, **kwargs)
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            acc[name] += time.perf_counter() - t0

    return wrapper


@contextmanager
def stage_timer() -> Iterator[dict[str, float]]:
    """Yield a dict that fills with seconds per stage of every build() run inside the block.

    "extraction" is the time spent inside run_extraction's iterator (cache look-ups, model loading,
    parsing); "model load" (Extractor.__init__: authority + spaCy pipeline + entity ruler) is part of
    it and also shown on its own."""
    acc: dict[str, float] = defaultdict(float)
    saved: dict[str, Any] = {name: getattr(builder, name) for name in _BUILDER_STAGES if hasattr(builder, name)}
    saved_run = parallel.run_extraction
    saved_init = builder.Extractor.__init__

    busy: set[str] = set()

    def run_extraction(*args: Any, **kwargs: Any) -> Iterator[Any]:
        it = saved_run(*args, **kwargs)
        while True:
            t0 = time.perf_counter()
            busy.add("extraction")
            try:
                item = next(it)
            except StopIteration:
                return
            finally:
                busy.discard("extraction")
                acc["extraction"] += time.perf_counter() - t0
            yield item

    try:
        for name, fn in saved.items():
            setattr(builder, name, _timed(fn, name, acc, busy))
        parallel.run_extraction = run_extraction  # build() imports it from kg.parallel at call time
        builder.Extractor.__init__ = _timed(saved_init, "model load", acc)  # type: ignore[method-assign]
        yield acc
    finally:
        for name, fn in saved.items():
            setattr(builder, name, fn)
        parallel.run_extraction = saved_run
        builder.Extractor.__init__ = saved_init  # type: ignore[method-assign]
