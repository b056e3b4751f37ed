"""Executors and the cache never change the graph.

A serial build of the seeds is the reference. A build with a process pool (`--workers 2`), one on a small
local Dask cluster (`--executor dask`), and an incremental rebuild must give byte-identical
N-Quads dumps (and the same store), because the graph is the published artefact: if the executor or the cache could change
it, a rebuild could silently publish a different graph from a clean build. Every build here runs the
real pipeline (about 30 s each on two cores), so the builds are shared through module fixtures.
"""

from __future__ import annotations

import gzip
import json
import shutil
import stat
from pathlib import Path

import pytest

from kg.builder import Summary, build
from kg.corpus import select_sources

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


def _dump(store: Path) -> bytes:
    return (store.resolve() / "dumps" / "graph.nq.gz").read_bytes()


def _assert_same(expected: bytes, actual: bytes, what: str) -> None:
    """Byte equality of the gzipped dumps, with the first differing statements when it fails."""
    if expected == actual:
        return
    a = set(gzip.decompress(expected).splitlines())
    b = set(gzip.decompress(actual).splitlines())
    missing = sorted(a - b)[:5]
    extra = sorted(b - a)[:5]
    pytest.fail(f"{what}: the dump differs from the serial build's\nmissing: {missing}\nextra: {extra}")


def _build(store: Path, seeds: Path = SEEDS, **kwargs) -> Summary:
    return build(None, store, seeds_dir=seeds, report=lambda m: None, **kwargs)


def _copy_corpus(target: Path) -> Path:
    shutil.copytree(SEEDS, target)
    for p in target.iterdir():
        p.chmod(p.stat().st_mode | stat.S_IWUSR)
    return target


@pytest.fixture(scope="module")
def serial(tmp_path_factory) -> tuple[Summary, bytes]:
    store = tmp_path_factory.mktemp("serial") / "store"
    summary = _build(store, use_cache=False)
    return summary, _dump(store)


def test_process_pool_matches_serial(serial, tmp_path) -> None:
    summary = _build(tmp_path / "store", use_cache=False, workers=2)
    assert summary.parsed == serial[0].parsed and summary.errors == []
    _assert_same(serial[1], _dump(tmp_path / "store"), "--workers 2")


def test_dask_matches_serial(serial, tmp_path) -> None:
    pytest.importorskip("distributed")
    summary = _build(tmp_path / "store", use_cache=False, workers=2, executor="dask")
    assert summary.parsed == serial[0].parsed and summary.errors == []
    _assert_same(serial[1], _dump(tmp_path / "store"), "--executor dask")


def test_rebuild_parses_only_the_edited_document(serial, tmp_path) -> None:
    corpus = _copy_corpus(tmp_path / "corpus")
    n = len(select_sources(corpus)[0])
    store = tmp_path / "store"

    first = _build(store, corpus, use_cache=True)
    assert (first.parsed, first.cached) == (n, 0)
    _assert_same(serial[1], _dump(store), "a build that fills the cache")

    edited = next(corpus.glob("004_*.txt"))
    with open(edited, "a", encoding="utf-8", newline="") as fh:
        fh.write("\nThe Ambassador added a sentence to this telegram.\n")
    again = _build(store, corpus, use_cache=True)
    assert (again.parsed, again.cached) == (1, n - 1)

    # the same corpus from scratch (a pool, to save time: the first test shows it equals serial)
    clean = _build(tmp_path / "clean", corpus, use_cache=False, workers=2)
    assert (clean.parsed, clean.cached) == (n, 0)
    assert _dump(store) != serial[1], "the edit should change the graph"
    _assert_same(_dump(tmp_path / "clean"), _dump(store), "the incremental rebuild")
    # the cached documents came as digests: the summary must still count what a clean build counts
    assert (again.messages, again.mentions, again.linked, again.entities) == (
        clean.messages, clean.mentions, clean.linked, clean.entities)

    # the rebuild patched a copy of the previous store graph by graph; it must hold exactly the quads
    # of the store a clean build loads (the dump is written from the parts, not read from the store)
    import json

    import pyoxigraph as ox

    assert json.loads((store.resolve() / "build.json").read_text())["store_made"] == "patched"
    assert json.loads((tmp_path / "clean" / "build.json").read_text())["store_made"] == "loaded"

    def quads(link: Path) -> set[str]:
        return {str(q) for q in ox.Store.read_only(str(link.resolve() / "oxigraph"))}

    patched, loaded = quads(store), quads(tmp_path / "clean")
    assert patched == loaded, f"patched store differs: {sorted(patched - loaded)[:3]} / {sorted(loaded - patched)[:3]}"


def test_nothing_changed_loads_no_model(serial, tmp_path, monkeypatch) -> None:
    """A rebuild where every document is cached must not load spaCy at all (the cache is read before
    any pipeline is built); checked by making pipeline construction fail."""
    corpus = _copy_corpus(tmp_path / "corpus")
    docs = [p.name for p in sorted(corpus.glob("00[0234]_*.txt"))]
    store = tmp_path / "store"
    build(docs, store, seeds_dir=corpus, report=lambda m: None)

    import kg.builder

    def no_model(*args, **kwargs):
        raise AssertionError("the model was loaded although every document was cached")

    # a torn digest and a missing one: the whole cached result stands in, still without the model
    digests = sorted(store.parent.glob(f"{store.name}.cache/*/*.digest.json"))
    assert len(digests) == len(docs)
    digests[0].write_text("{", encoding="utf-8")
    digests[1].unlink()
    first = json.loads((store.resolve() / "build.json").read_text())

    monkeypatch.setattr(kg.builder.Extractor, "__init__", no_model)
    again = build(docs, store, seeds_dir=corpus, report=lambda m: None, workers=2)
    assert (again.parsed, again.cached) == (0, len(docs))
    assert (again.messages, again.mentions, again.linked, again.entities) == (
        first["messages"], first["mentions"], first["linked"], first["entities"])


def test_light_pipeline_version_is_the_extractors() -> None:
    """The cache is looked up with a version computed without the model; it must be the loaded one's."""
    from kg.builder import Extractor, default_model
    from kg.extract import LINKING_DIR
    from kg.parallel import light_pipeline_version

    assert light_pipeline_version(default_model(), LINKING_DIR) == Extractor(default_model(), LINKING_DIR, None).version


def test_source_error_in_a_worker_is_reported(tmp_path) -> None:
    """A bad file parsed in a worker process comes back as that file's error; the rest still builds."""
    corpus = _copy_corpus(tmp_path / "corpus")
    (corpus / "999_empty.txt").write_text("", encoding="utf-8")
    with open(corpus / "manifest.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[[source]]\nfile = "999_empty.txt"\ntitle = "Empty"\nkind = "document"\n')
    docs = [p.name for p in sorted(corpus.glob("00[04]_*.txt"))] + ["999_empty.txt"]
    messages: list[str] = []
    summary = build(docs, tmp_path / "store", seeds_dir=corpus, report=messages.append, workers=2, use_cache=False)
    assert summary.files == 2
    assert any("999_empty.txt" in m and "empty" in m for m in summary.errors), summary.errors
