"""Bad input and faults: one clear error per bad file, the good files still build, nothing lost."""

from __future__ import annotations

import gzip
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.builder import build
from kg.errors import KGError
from kg.store import open_store

ROOT = Path(__file__).resolve().parent.parent
GOOD = "004_78820021b3d022f1.txt"  # a small FRUS telegram: builds in a second


def corpus(tmp_path: Path, extra: dict[str, bytes], manifest_extra: str = "") -> Path:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(ROOT / "seeds" / GOOD, seeds / GOOD)
    entries = [f'[[source]]\nfile = "{GOOD}"\ntitle = "Harriman to the Secretary of State"\nkind = "document"\n'
               'date = "1944-09-24"\nsender = "W. Averell Harriman"\nrecipients = ["Cordell Hull"]\n']
    for name, data in extra.items():
        (seeds / name).write_bytes(data)
        kind = "book" if name.startswith("book") else "document"
        entries.append(f'[[source]]\nfile = "{name}"\ntitle = "{name}"\nkind = "{kind}"\n')
    (seeds / "manifest.toml").write_text("\n".join(entries) + manifest_extra, encoding="utf-8")
    return seeds


def run_kg(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kg.cli", *args], capture_output=True, text=True)


BAD = {
    "empty.txt": (b"", "the file is empty"),
    "binary.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10, "binary"),
    "cp1252.txt": ("Mr Molotov met M. Beneš in Moscow \u2014 \u201cquoted\u201d".encode("cp1252"), "not UTF-8"),
    "latin1.txt": ("Königsberg and Lódz".encode("latin-1"), "not UTF-8"),
    "book-nothing.txt": (b"Just some prose with no message header at all.\n" * 20, "no message header"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_file_gets_one_clear_error(tmp_path, name):
    data, problem = BAD[name]
    seeds = corpus(tmp_path, {name: data})
    res = run_kg("build", "--seeds", str(seeds), "--store", str(tmp_path / "store"), "--quiet")
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, res.stderr
    assert name in errors[0] and problem in errors[0]
    # the good file still built
    assert "2 files" not in res.stdout and "1 files" in res.stdout
    store = open_store(tmp_path / "store")
    assert any(True for _ in store.quads_for_pattern(None, None, None))


def test_strict_makes_errors_fatal_and_keeps_the_previous_store(tmp_path):
    seeds = corpus(tmp_path, {})
    store = tmp_path / "store"
    assert run_kg("build", "--seeds", str(seeds), "--store", str(store), "--quiet").returncode == 0
    before = os.readlink(store)
    (seeds / "empty.txt").write_bytes(b"")
    with open(seeds / "manifest.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[[source]]\nfile = "empty.txt"\ntitle = "empty"\nkind = "document"\n')
    res = run_kg("build", "--seeds", str(seeds), "--store", str(store), "--strict", "--quiet")
    assert res.returncode == 2
    assert "empty.txt" in res.stderr and "--strict" in res.stderr and "Traceback" not in res.stderr
    assert os.readlink(store) == before


def test_malformed_manifest_entry(tmp_path):
    seeds = corpus(tmp_path, {}, manifest_extra='\n[[source]]\nfile = "ghost.txt"\nkind = "novel"\n')
    res = run_kg("build", "--seeds", str(seeds), "--store", str(tmp_path / "store"), "--quiet")
    assert res.returncode == 0
    err = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert len(err) == 1 and "manifest.toml" in err[0] and "ghost.txt" in err[0], res.stderr


@pytest.mark.parametrize("entry, problem", [
    ('file = "letter.txt"\ntitle = "t"\nkind = "document"\nurl = "http://example.org/a letter"\n', "is not an absolute IRI"),
    ('file = "../letter.txt"\ntitle = "t"\nkind = "document"\n', "not a path"),
])
def test_manifest_entry_that_cannot_make_an_iri(tmp_path, entry, problem):
    """A url the store would reject, a path for a file name: one error naming the manifest and the entry,
    before anything is parsed; the other files build."""
    seeds = corpus(tmp_path, {"letter.txt": (ROOT / "seeds" / GOOD).read_bytes()})
    manifest = seeds / "manifest.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace(
        'file = "letter.txt"\ntitle = "letter.txt"\nkind = "document"\n', entry), encoding="utf-8")
    res = run_kg("build", "--seeds", str(seeds), "--store", str(tmp_path / "store"), "--quiet")
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    err = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert len(err) == 1 and "manifest.toml" in err[0] and "letter.txt" in err[0] and problem in err[0], res.stderr
    assert "1 files" in res.stdout


def test_file_names_with_spaces_and_other_scripts_make_valid_iris(tmp_path):
    """Users' files are named "FRUS 1943, vol. III.txt" or in Cyrillic: the build percent-encodes what an
    IRI cannot hold (kg.namespaces.file_part), the store loads every IRI (Oxigraph checks them), mentions
    are explained by FILE:START-END, and the server answers each IRI at its own address."""
    from urllib.parse import quote

    from kg.explain import explain
    from kg.namespaces import SRC
    from kg.serve.site import iri_from_uri

    text = (ROOT / "seeds" / GOOD).read_bytes()
    names = ["FRUS 1944, vol. IV #2.txt", "Молотов 100%.txt"]
    seeds = corpus(tmp_path, dict.fromkeys(names, text))
    res = run_kg("build", "--seeds", str(seeds), "--store", str(tmp_path / "store"), "--quiet")
    assert res.returncode == 0 and "error" not in res.stderr, res.stderr
    assert "3 files" in res.stdout
    store = open_store(tmp_path / "store")
    sources = {q.subject.value for q in store.quads_for_pattern(
        None, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), ox.NamedNode("https://schema.org/CreativeWork"))}
    assert {str(SRC["FRUS%201944,%20vol.%20IV%20%232"]), str(SRC["Молотов%20100%25"])} <= sources
    source = SRC["Молотов%20100%25"]
    rows = list(store.query(
        "PREFIX oa: <http://www.w3.org/ns/oa#> SELECT ?s ?e WHERE { GRAPH ?g { ?a oa:hasTarget ?t . "
        f"?t oa:hasSource <{source}> ; oa:hasSelector ?p . ?p oa:start ?s ; oa:end ?e }} }} LIMIT 1"))
    assert rows
    start, end = rows[0]["s"].value, rows[0]["e"].value
    assert f"at {names[1]}:{start}-{end}" in explain(store, f"{names[1]}:{start}-{end}")
    # what a client sends for each source IRI (its URI form) names that IRI again
    for iri in sources:
        path = quote(iri.split("/wartime-kg/", 1)[1], safe="/:@!$&'()*+,;=-._~%")
        assert iri_from_uri(path) == iri.split("/wartime-kg/", 1)[1]


def test_missing_file_named_in_manifest(tmp_path):
    seeds = corpus(tmp_path, {}, manifest_extra='\n[[source]]\nfile = "missing.txt"\ntitle = "m"\nkind = "document"\n')
    res = run_kg("build", "--seeds", str(seeds), "--store", str(tmp_path / "store"), "--quiet")
    err = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert len(err) == 1 and "missing.txt" in err[0] and "cannot read" in err[0], res.stderr


def test_huge_file(tmp_path):
    big = tmp_path / "big.bin"
    seeds = corpus(tmp_path, {})
    with open(seeds / "huge.txt", "wb") as fh:
        fh.truncate(100 * 1024 * 1024)  # 100 MB, sparse: no disk cost
    with open(seeds / "manifest.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[[source]]\nfile = "huge.txt"\ntitle = "huge"\nkind = "book"\n')
    t0 = time.perf_counter()
    res = run_kg("build", "--seeds", str(seeds), "--store", str(tmp_path / "store"), "--quiet")
    assert time.perf_counter() - t0 < 120
    err = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert len(err) == 1 and "huge.txt" in err[0] and "MB" in err[0], res.stderr
    assert not big.exists()


def test_nothing_buildable_is_an_error_and_no_store(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "empty.txt").write_bytes(b"")
    (seeds / "manifest.toml").write_text('[[source]]\nfile = "empty.txt"\ntitle = "e"\nkind = "document"\n')
    with pytest.raises(KGError):
        build(None, tmp_path / "store", seeds_dir=seeds, report=lambda m: None)
    assert not (tmp_path / "store").exists()


def test_sigkill_midway_leaves_the_previous_store(built_store, tmp_path):
    """Copy a finished store, start a full rebuild into it, SIGKILL it while it parses: the link still
    points at the old build, which opens and answers as before."""
    store_root = tmp_path / "kill"
    shutil.copytree(built_store.parent, store_root, symlinks=True)
    store = store_root / built_store.name
    shutil.rmtree(store_root / (built_store.name + ".cache"), ignore_errors=True)
    before = os.readlink(store)
    before_dump = gzip.open(store / "dumps" / "graph.nq.gz").read()
    proc = subprocess.Popen([sys.executable, "-m", "kg.cli", "build", "--store", str(store), "--no-cache", "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(12)  # model loaded, parsing the book
    assert proc.poll() is None, "the build finished too soon to be killed midway"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert os.readlink(store) == before
    assert gzip.open(store / "dumps" / "graph.nq.gz").read() == before_dump
    n = list(open_store(store).query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"))[0]["n"].value
    assert int(n) == before_dump.count(b"\n")
    # the next build cleans up the half-written directory of the killed one
    res = run_kg("build", "--store", str(store), "--quiet")
    assert res.returncode == 0, res.stderr
    builds = list((store_root / (built_store.name + ".d")).iterdir())
    assert all((d / "build.json").exists() for d in builds)


def test_builds_never_prune_the_directory_a_server_reads(tmp_path: Path) -> None:
    """`kg serve` reads the build directory it started with; later builds keep only the newest builds,
    but must leave a served one in place, or the running server would lose its store midway."""
    from test_serve import start_server, stop_server

    seeds = corpus(tmp_path, {})
    store = tmp_path / "store"
    build(None, store, seeds_dir=seeds, report=lambda m: None)
    served_dir = store.resolve()
    server = start_server(store, tmp_path)
    try:
        assert any(p.name.startswith(".served-by-") for p in served_dir.iterdir())
        for _ in range(3):  # more than the builds kept (kg.store.KEEP_BUILDS)
            build(None, store, seeds_dir=seeds, report=lambda m: None)
        assert served_dir.exists() and (served_dir / "oxigraph").exists()
        assert store.resolve() != served_dir
        import requests

        r = requests.get(server.url + "query", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
                         headers={"Accept": "application/sparql-results+json"}, timeout=30)
        assert r.status_code == 200 and int(r.json()["results"]["bindings"][0]["n"]["value"]) > 1000
    finally:
        stop_server(server)
    # once the server is gone, the next build prunes the directory as usual
    build(None, store, seeds_dir=seeds, report=lambda m: None)
    assert not served_dir.exists()


def test_crlf_file_gives_the_mentions_of_its_lf_copy(tmp_path):
    """A file saved on Windows (CRLF line ends) is read as it is (offsets count every "\\r"), and the model
    sees the same text as for the LF file: the same mentions, linked alike, each at its exact characters."""
    import json

    # passages of the book where line ends matter: words hyphenated across a page break, a salutation
    # after a header, a film title in markup
    book = (ROOT / "seeds" / "001_3885a6e84abb0fe1.txt").read_text(encoding="utf-8")
    spots = ["Pol-\n\nish Government", "Pro-\n\nvisional Government", "Desert Victory", "Dear Mr Churchill"]
    text = "\n\n".join(book[book.index(s) - 300 : book.index(s) + 200] for s in spots).encode("utf-8")
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    entry = ('title = "Passages of the book"\nkind = "document"\ndate = "1944-10-12"\n'
             'sender = "Joseph Stalin"\nrecipients = ["Winston Churchill"]\n')
    (seeds / "lf.txt").write_bytes(text)
    (seeds / "crlf.txt").write_bytes(text.replace(b"\n", b"\r\n"))
    (seeds / "manifest.toml").write_text(f'[[source]]\nfile = "lf.txt"\n{entry}\n[[source]]\nfile = "crlf.txt"\n{entry}',
                                         encoding="utf-8")
    assert b"\r" not in text and text.count(b"\n") > 10
    res = run_kg("build", "--seeds", str(seeds), "--store", str(tmp_path / "store"), "--quiet")
    assert res.returncode == 0 and "error" not in res.stderr, res.stderr
    out = tmp_path / "mentions.jsonl"
    assert run_kg("export", "mentions", "--store", str(tmp_path / "store"), "-o", str(out)).returncode == 0
    mentions = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    by_file: dict[str, list] = {"lf.txt": [], "crlf.txt": []}
    for m in mentions:
        raw = (seeds / m["source"]).read_bytes().decode("utf-8")
        assert raw[m["start"] : m["end"]] == m["text"]
        by_file[m["source"]].append((m["text"].replace("\r\n", "\n"), m["type"], m["entity"], m["score"]))
    assert len(by_file["lf.txt"]) > 15
    assert sorted(by_file["crlf.txt"], key=str) == sorted(by_file["lf.txt"], key=str)
