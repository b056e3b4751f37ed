"""`kg build`: run the whole flow for a set of sources and publish the store only when it is complete."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import spacy
from rdflib import URIRef

from . import __version__
from .authority import Authority, load_authority
from .build import DocDigest, DocResult, pipeline_version, process_source
from .corpus import Source, select_sources
from .errors import KGError, SourceError
from .extract import DEFAULT_MODEL, LINKING_DIR, build_nlp
from .graph import Triples, authority_quads, document_graph, minted_entities, provenance, run_iri, source_graph
from .namespaces import DEFAULT_BASE, GRAPH, MSG, PREFIXES
from .parts import Part, make_part
from .store import STORE_FORMAT, FreshStore, graphs_record, new_build_dir, patchable, publish, write_store

SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"
# Results of a build without the cache are held in memory up to this many mentions (the seeds have
# about 4,700, so they are never spilled; a mention costs about 2 KB) and spilled to disk beyond it, so memory stays flat.
HOLD_MENTIONS = 8_000
IN_FLIGHT = 4  # background jobs (compress, Turtle, load) queued at most: about two parts


@dataclass
class Summary:
    files: int = 0
    messages: int = 0
    mentions: int = 0
    linked: int = 0
    entities: int = 0
    triples: int = 0
    seconds: float = 0.0
    parsed: int = 0
    cached: int = 0
    errors: list[str] = field(default_factory=list)
    store: str = ""
    build_id: str = ""


def default_model() -> str:
    return os.environ.get("WARTIME_KG_MODEL", DEFAULT_MODEL)


def cache_dir(store: Path) -> Path:
    return store.parent / (store.name + ".cache")


def message_iri_factory(base: str) -> Callable[[str], str]:
    ns = MSG if base == DEFAULT_BASE else None

    def make(local: str) -> str:
        return str(ns[local]) if ns is not None else f"{base}message/{local}"

    return make


class Extractor:
    """Parses documents. One per process (the pipeline loads once); kg.parallel caches the results.
    `cache`: the build's cache folder, where the parsed authority and the ruler's patterns are kept."""

    def __init__(self, model: str, linking_dir: Path, cache: Path | None = None):
        self.authority = load_authority(linking_dir, cache)
        self.nlp = build_nlp(model, linking_dir, self.authority, cache)
        self.version = pipeline_version(self.nlp, self.authority)

    def run(self, source: Source) -> DocResult:
        return process_source(source, self.nlp, self.authority, message_iri_factory(DEFAULT_BASE), set())


@dataclass(slots=True)
class _Cites:
    """What citations are resolved against, of one message: a build keeps this of every message of the
    corpus until the graphs are written, so it holds nothing else (a whole record is ten times larger)."""

    id: str
    date: str | None
    date_sent: str | None
    sender: str | None
    recipients: tuple[str, ...]
    citations: tuple[dict, ...]


@dataclass(slots=True)
class _Slim:
    source: str
    sha256: str
    messages: list[_Cites]

    @classmethod
    def of(cls, result: DocResult | DocDigest) -> _Slim:
        return cls(result.source, result.sha256, [
            _Cites(m.id, m.date, m.date_sent, m.sender, tuple(m.recipients),
                   tuple({"date": c["date"], "own": c["own"], "start": c["start"]} for c in m.citations))
            for m in result.messages])


def link_citations(results: list[DocResult] | list[_Slim], authority: Authority) -> dict[str, dict]:
    """Cited messages -> the message of the corpus, or a stub from the other side with that date."""
    by_key: dict[tuple[str, str, str], str] = {}
    for r in results:
        for m in r.messages:
            for d in (m.date, m.date_sent):
                if d and m.sender:
                    for rec in m.recipients:
                        by_key.setdefault((d, m.sender, rec), m.id)
    targets: dict[str, dict] = {}
    owner: dict[str, str] = {}
    for r in results:
        for m in r.messages:
            if not m.sender or not m.recipients:
                continue
            for c in m.citations:
                if c["own"]:
                    hit = next((by_key[(c["date"], m.sender, rec)] for rec in m.recipients if (c["date"], m.sender, rec) in by_key), None)
                    sender, recipients = m.sender, list(m.recipients)
                else:
                    hit = next((by_key[(c["date"], rec, m.sender)] for rec in m.recipients if (c["date"], rec, m.sender) in by_key), None)
                    sender, recipients = m.recipients[0], [m.sender]
                if hit and hit != m.id:
                    targets[f"{m.id}|{c['start']}"] = {"id": hit, "stub": False}
                    continue
                if hit == m.id:
                    continue

                def short(iri: str) -> str:
                    e = authority.entities.get(iri)
                    label = e.label if e else iri.rsplit("/", 1)[-1]
                    return re.sub(r"[^a-z0-9]+", "-", label.split()[-1].lower())

                local = f"stub/{c['date']}-{short(sender)}-to-{short(recipients[0])}"
                stub_id = str(MSG[local])
                targets[f"{m.id}|{c['start']}"] = {
                    "id": stub_id,
                    "stub": True,
                    "date": c["date"],
                    "sender": sender,
                    "recipients": recipients,
                    "label": f"{_name(authority, sender)} to {_name(authority, recipients[0])}, "
                             f"{_long_date(c['date'])} (cited, not in the corpus)",
                    # a stub is written once, into the graph of the first document that cites it
                    "source": owner.setdefault(stub_id, r.source),
                }
    return targets


def _name(authority: Authority, iri: str) -> str:
    e = authority.entities.get(iri)
    return (e.label.split()[-1] if e.type == "PERSON" else e.label) if e else iri.rsplit("/", 1)[-1]


def _long_date(iso: str) -> str:
    from datetime import date

    d = date.fromisoformat(iso)
    return f"{d.day} {d:%B %Y}"


def build(
    sources: list[str] | None,
    store: Path,
    seeds_dir: Path = SEEDS_DIR,
    model: str | None = None,
    linking_dir: Path = LINKING_DIR,
    strict: bool = False,
    workers: int = 1,
    executor: str | None = None,
    use_cache: bool = True,
    report: Callable[[str], None] = print,
    progress: Callable[[str, int, int], None] | None = None,
) -> Summary:
    """Build the graph of `sources` (default: the whole manifest) into a new store and publish it.

    It streams: documents are extracted one at a time and only their messages (what citations are
    resolved against) stay in memory; each named graph is then written to disk as a part (kg.parts),
    from the cache when its inputs are unchanged, and the store and the dumps are made of the parts."""
    t0 = time.perf_counter()
    summary = Summary(store=str(store))
    chosen, errors = select_sources(seeds_dir, sources)
    for e in errors:
        report(f"error: {e}")
    if strict and errors:
        raise KGError(f"{len(errors)} input error(s) and --strict: nothing was built, the previous store is unchanged")
    if not chosen:
        raise KGError("no source could be read: nothing was built, the previous store is unchanged")
    model = model or default_model()
    cache = cache_dir(store) if use_cache else None

    from .parallel import cache_file, light_pipeline_version, run_extraction  # Dask is only loaded when asked for

    store.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{store.name}.work-", dir=store.parent))
    try:
        doc_version = light_pipeline_version(model, linking_dir)
        docs: list[_Doc] = []
        in_memory = 0  # mentions of the results held in memory rather than read back from disk
        nil: dict[str, dict] = {}
        entities: set[str] = set()
        for source, outcome, cached in run_extraction(chosen, model, linking_dir, cache, workers, executor, progress):
            if isinstance(outcome, SourceError):
                report(f"error: {outcome}")
                errors.append(outcome)
                if strict:
                    raise KGError(f"{outcome} (--strict: nothing was built, the previous store is unchanged)")
                continue
            result_file = cache_file(cache, doc_version, source, outcome.sha256) if cache and doc_version else None
            held = None
            if isinstance(outcome, DocResult) and (result_file is None or not result_file.exists()):
                if in_memory + len(outcome.mentions) <= HOLD_MENTIONS:  # small corpora: keep it, no round trip
                    held, in_memory = outcome, in_memory + len(outcome.mentions)
                else:  # spill it: the memory is for the next document
                    result_file = work / f"{len(docs):06d}.json"
                    result_file.write_text(outcome.to_json(), encoding="utf-8")
            digest = outcome.digest()  # a document from the cache comes as its digest alone
            docs.append(_Doc(source, result_file, _Slim.of(digest), held))
            summary.cached += int(cached)
            summary.parsed += int(not cached)
            summary.messages += len(digest.messages)
            summary.mentions += digest.mention_count
            summary.linked += digest.linked_count
            entities.update(digest.entities)
            for iri, info in digest.nil_entities.items():
                nil.setdefault(iri, info)
            del outcome, digest
        if not docs:
            raise KGError("no source could be built: the previous store is unchanged")
        summary.entities = len(entities)

        authority = load_authority(linking_dir, cache)
        nlp_meta = _model_meta(model)
        version = pipeline_version_light(authority, nlp_meta)
        run = run_iri(version)
        stubs = link_citations([d.messages for d in docs], authority)
        # senders and recipients the authority does not know are minted too
        for d in docs:
            for m in d.messages.messages:
                for iri in [m.sender, *m.recipients]:
                    if iri and "/unreviewed/" in iri and iri not in nil:
                        nil[iri] = {"label": iri.rsplit("/", 1)[-1].replace("-", " ").title(), "type": iri.split("/")[-2].upper()}

        prefixes = {p: str(ns) for p, ns in PREFIXES.items()}
        keyed = cache is not None and doc_version is not None
        part_dir = cache / doc_version / "parts" if keyed else work  # type: ignore[operator]
        ok_sources = [d.source for d in docs]
        live = store.resolve() if store.is_symlink() and store.exists() else None
        build_dir = new_build_dir(store)
        try:
            # Two background threads, while this one makes the next part: one compresses each part and
            # writes its Turtle, the other bulk-loads it into a new store (both mostly outside the GIL).
            # A rebuild that can patch the live store loads nothing here and patches it once the parts
            # are known.
            with (ThreadPoolExecutor(max_workers=1, thread_name_prefix="kg-parts") as background,
                  ThreadPoolExecutor(max_workers=1, thread_name_prefix="kg-load") as loader):
                jobs: list[Future] = []
                fresh = None if keyed and patchable(live) else FreshStore(build_dir)

                def later(job: Callable[[], None]) -> None:
                    jobs.append(background.submit(job))

                def add(part: Part) -> None:
                    parts.append(part)
                    if fresh is not None:
                        jobs.append(loader.submit(fresh.load, part))
                    # at most a few parts in flight: a queued job holds its part's N-Quads in memory, and
                    # this thread makes parts faster than the background finishes them
                    while len(jobs) > IN_FLIGHT:
                        jobs.pop(0).result()

                parts: list[Part] = []
                add(make_part(GRAPH["authority"], lambda: authority_quads(authority), part_dir,
                              f"authority.{version}" if keyed else None, prefixes, later))
                for d in docs:
                    def make(d: _Doc = d) -> Triples:
                        result = d.held or DocResult.from_json(d.result_file.read_text(encoding="utf-8"))  # type: ignore[union-attr]
                        d.held = None
                        return document_graph(d.source, result, d.source.read(), run, stubs)

                    add(make_part(source_graph(d.source.file), make, part_dir,
                                  _document_key(d, run, stubs) if keyed else None, prefixes, later))
                add(make_part(GRAPH["entities"], lambda: minted_entities(nil), work, None, prefixes, later))
                add(make_part(GRAPH["provenance"], lambda: provenance(run, ok_sources, nlp_meta, spacy.__version__),
                              work, None, prefixes, later))
                for job in jobs:
                    job.result()  # an error of the background thread is this build's error
            parts.sort(key=lambda p: p.graph)
            summary.triples = sum(p.quads for p in parts)
            how = write_store(build_dir, parts, live, fresh)
            summary.files = len(docs)
            summary.errors = [str(e) for e in errors]
            summary.build_id = build_dir.name
            summary.seconds = round(time.perf_counter() - t0, 2)
            info = {**summary.__dict__, "version": __version__, "pipeline": version, "model": model,
                    "sources": [s.file for s in ok_sources], "seeds": str(Path(seeds_dir).resolve()),
                    "store_format": STORE_FORMAT, "store_made": how, "graphs": graphs_record(parts)}
            (build_dir / "build.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
            publish(store, build_dir)
        except BaseException:
            shutil.rmtree(build_dir, ignore_errors=True)
            raise
        if keyed:
            _prune_parts(part_dir, parts)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return summary


@dataclass
class _Doc:
    """What the build keeps of a document between extraction and writing: where its full result is
    (the cache, or a spill file) and its messages, which every other document's citations may point at."""

    source: Source
    result_file: Path | None
    messages: _Slim  # what citations need of its messages
    held: DocResult | None = None  # the whole result, when it was kept in memory


def _document_key(doc: _Doc, run: URIRef, stubs: dict[str, dict]) -> str:
    """Everything document_graph reads besides the code and the pipeline (the part folder is per
    pipeline version): the manifest entry, the text (by hash), the run and the citations it resolves."""
    ids = {m.id for m in doc.messages.messages}
    mine = sorted(((k, v) for k, v in stubs.items() if k.split("|", 1)[0] in ids or v.get("source") == doc.source.file),
                  key=lambda kv: kv[0])
    entry = {k: v for k, v in sorted(vars(doc.source).items()) if k != "path"}
    blob = json.dumps([entry, doc.messages.sha256, str(run), mine], sort_keys=True, default=str)
    return f"{doc.source.file}.{hashlib.sha256(blob.encode()).hexdigest()[:24]}"


def _prune_parts(part_dir: Path, parts: list[Part]) -> None:
    """Drop cached parts this build did not use: a part is cheap to remake from the cached results,
    and every edit of a document would otherwise leave its old part behind for good."""
    used = {p.nq.name.removesuffix(".nq") for p in parts}
    for f in part_dir.iterdir():
        stem = f.name
        for suffix in (".nq.gz", ".ttl.gz", ".nq", ".json"):
            if stem.endswith(suffix):
                stem = stem.removesuffix(suffix)
                break
        if stem not in used and not f.name.startswith("."):
            f.unlink(missing_ok=True)


def _model_meta(model: str) -> dict:
    """Name and version of the model package, for provenance, without loading the model."""
    from .extract import MODELS

    name = MODELS.get(model, model)
    try:
        meta = json.loads((spacy.util.get_package_path(name) / "meta.json").read_text(encoding="utf-8"))
        return {"lang": meta.get("lang", "en"), "name": meta.get("name", name), "version": meta.get("version", "?")}
    except Exception:
        return {"lang": "en", "name": name, "version": spacy.util.get_package_version(name) or "?"}


def pipeline_version_light(authority: Authority, meta: dict) -> str:
    import hashlib

    h = hashlib.sha256(f"{__version__}|{meta.get('name')}|{meta.get('version')}".encode())
    for f in authority.files:
        h.update(f.read_bytes())
    return h.hexdigest()[:16]
