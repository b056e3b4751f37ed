"""Build time against bare spaCy, and an incremental rebuild against a full build.

Both sides of each ratio run in this one process, interleaved (bare, build, bare, build, ...), and the
best of `repeat` runs of each side is kept: the machine is shared, and the minimum is the measurement
least disturbed by other load. The garbage collector is run before every timed region.
"""

from __future__ import annotations

import gc
import shutil
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import spacy

from bench.stages import stage_timer
from kg.build import _SKIP_BLOCK
from kg.builder import Summary, build
from kg.cleantext import clean
from kg.corpus import select_sources
from kg.extract import MODELS
from kg.messages import split

BATCH_SIZE = 32  # what kg.build._pipe uses


@dataclass
class Timing:
    """Seconds of every run and the stage breakdown of the fastest one."""

    runs: list[float] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)
    summary: Summary | None = None

    @property
    def best(self) -> float:
        return min(self.runs)


def model_texts(seeds_dir: Path) -> list[str]:
    """Exactly the texts the build gives the model: each message of each source, masked and cleaned
    as kg.build.process_source does it (computed here once, outside any timed region)."""
    sources, _ = select_sources(seeds_dir)
    texts: list[str] = []
    for source in sources:
        text = source.read()
        for msg in split(source, text):
            raw = text[msg.start : msg.end]
            masked = _SKIP_BLOCK.sub(lambda m: " " * len(m.group(0)), raw) if source.kind == "document" else raw
            texts.append(clean(masked, msg.start).text)
    return texts


def bare_spacy(model: str, texts: list[str]) -> float:
    """spacy.load + nlp.pipe over the texts: the model's own cost, with the components the build runs
    (the build excludes the lemmatizer, so the bare side does too) and the build's batch size."""
    gc.collect()
    t0 = time.perf_counter()
    nlp = spacy.load(MODELS.get(model, model), exclude=["lemmatizer"])
    for doc in nlp.pipe(texts, batch_size=BATCH_SIZE):
        len(doc)
    seconds = time.perf_counter() - t0
    del nlp
    return seconds


def timed_build(store: Path, seeds_dir: Path, model: str, use_cache: bool) -> tuple[float, dict[str, float], Summary]:
    """One kg.builder.build, as `kg build` runs it (serial), with its stage breakdown."""
    gc.collect()
    with stage_timer() as stages:
        t0 = time.perf_counter()
        summary = build(None, store, seeds_dir=seeds_dir, model=model, use_cache=use_cache, report=lambda m: None)
        seconds = time.perf_counter() - t0
    stages_out = dict(stages)
    stages_out["total"] = seconds
    return seconds, stages_out, summary


def _record(t: Timing, seconds: float, stages: dict[str, float], summary: Summary) -> None:
    if not t.runs or seconds < t.best:
        t.stages, t.summary = stages, summary
    t.runs.append(seconds)


def build_vs_spacy(seeds_dir: Path, work: Path, model: str, repeat: int, log: Callable[[str], None]) -> tuple[Timing, Timing, Path]:
    """(bare spaCy, full build without cache, the store of the last full build)."""
    texts = model_texts(seeds_dir)
    log(f"build vs spaCy: {len(texts)} texts, {sum(map(len, texts)):,} characters, best of {repeat}")
    bare, full = Timing(), Timing()
    for r in range(repeat):
        bare.runs.append(bare_spacy(model, texts))
        log(f"  run {r + 1}: bare spaCy {bare.runs[-1]:.1f} s")
        # a new store each time: a build into the last run's store could patch it instead of loading one
        store = work / f"full-{r + 1}" / "store"
        _record(full, *timed_build(store, seeds_dir, model, use_cache=False))
        log(f"  run {r + 1}: full build {full.runs[-1]:.1f} s")
    return bare, full, store


def copy_corpus(seeds_dir: Path, target: Path) -> Path:
    """A writable copy of the corpus (the seeds are read-only files)."""
    shutil.copytree(seeds_dir, target)
    for p in target.iterdir():
        p.chmod(p.stat().st_mode | stat.S_IWUSR)
    return target


def incremental(seeds_dir: Path, work: Path, model: str, repeat: int, log: Callable[[str], None]) -> Timing:
    """Build a copy of the corpus with the cache, then `repeat` times: append a sentence to the
    smallest document and build again. Every rebuild must parse exactly that one document."""
    corpus = copy_corpus(seeds_dir, work / "inc-corpus")
    store = work / "inc" / "store"
    sources, _ = select_sources(corpus)
    target = min(sources, key=lambda s: s.path.stat().st_size)
    log(f"incremental: priming the cache, then editing {target.file} {repeat} times")
    build(None, store, seeds_dir=corpus, model=model, use_cache=True, report=lambda m: None)
    t = Timing()
    for r in range(repeat):
        with open(target.path, "a", encoding="utf-8", newline="") as fh:
            fh.write(f"\nThe benchmark added this sentence on run {r + 1}.\n")
        seconds, stages, summary = timed_build(store, corpus, model, use_cache=True)
        if summary.parsed != 1 or summary.cached != len(sources) - 1:
            log(f"  warning: the rebuild parsed {summary.parsed} and took {summary.cached} from the cache")
        _record(t, seconds, stages, summary)
        log(f"  run {r + 1}: rebuild {seconds:.1f} s ({summary.parsed} parsed, {summary.cached} cached)")
    return t
