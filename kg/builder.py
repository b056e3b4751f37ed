"""`kg build`: run the whole flow for a set of sources and publish the store only when it is complete."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import spacy
from rdflib import URIRef

from . import __version__
from .authority import Authority, load_authority
from .build import DocResult, pipeline_version, process_source
from .corpus import Source, select_sources
from .errors import KGError, SourceError
from .extract import DEFAULT_MODEL, LINKING_DIR, build_nlp
from .graph import assemble, authority_quads, document_graph, minted_entities, provenance, run_iri, source_graph
from .namespaces import DEFAULT_BASE, GRAPH, MSG, PREFIXES
from .store import new_build_dir, publish, write_store

SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"


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
    """Parses documents, with the per-document cache. One per process (the pipeline loads once)."""

    def __init__(self, model: str, linking_dir: Path, cache: Path | None):
        self.authority = load_authority(linking_dir)
        self.nlp = build_nlp(model, linking_dir, self.authority)
        self.version = pipeline_version(self.nlp, self.authority)
        self.cache = cache / self.version if cache else None

    def run(self, source: Source) -> tuple[DocResult, bool]:
        key = source.sha256()
        cached = self.cache / f"{source.file}.{key[:20]}.json" if self.cache else None
        if cached and cached.exists():
            return DocResult.from_json(cached.read_text(encoding="utf-8")), True
        result = process_source(source, self.nlp, self.authority, message_iri_factory(DEFAULT_BASE), set())
        if cached:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(f".tmp{os.getpid()}")
            tmp.write_text(result.to_json(), encoding="utf-8")
            os.replace(tmp, cached)
        return result, False


def link_citations(results: list[DocResult], authority: Authority) -> dict[str, dict]:
    """Cited messages -> the message of the corpus, or a stub from the other side with that date."""
    by_key: dict[tuple[str, str, str], str] = {}
    for r in results:
        for m in r.messages:
            for d in (m.date, m.date_sent):
                if d and m.sender:
                    for rec in m.recipients:
                        by_key.setdefault((d, m.sender, rec), m.id)
    targets: dict[str, dict] = {}
    for r in results:
        for m in r.messages:
            if not m.sender or not m.recipients:
                continue
            for c in m.citations:
                if c["own"]:
                    hit = next((by_key[(c["date"], m.sender, rec)] for rec in m.recipients if (c["date"], m.sender, rec) in by_key), None)
                    sender, recipients = m.sender, m.recipients
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
                targets[f"{m.id}|{c['start']}"] = {
                    "id": str(MSG[local]),
                    "stub": True,
                    "date": c["date"],
                    "sender": sender,
                    "recipients": recipients,
                    "label": f"{_name(authority, sender)} to {_name(authority, recipients[0])}, "
                             f"{_long_date(c['date'])} (cited, not in the corpus)",
                    "source": r.source,
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

    from .parallel import run_extraction  # local import: Dask is only loaded when asked for

    results: list[DocResult] = []
    ok_sources: list[Source] = []
    for source, outcome, cached in run_extraction(chosen, model, linking_dir, cache, workers, executor, progress):
        if isinstance(outcome, SourceError):
            report(f"error: {outcome}")
            errors.append(outcome)
            if strict:
                raise KGError(f"{outcome} (--strict: nothing was built, the previous store is unchanged)")
            continue
        results.append(outcome)
        ok_sources.append(source)
        summary.cached += int(cached)
        summary.parsed += int(not cached)
    if not results:
        raise KGError("no source could be built: the previous store is unchanged")

    authority = load_authority(linking_dir)
    nlp_meta = _model_meta(model)
    version = pipeline_version_light(authority, nlp_meta)
    run = run_iri(version)
    stubs = link_citations(results, authority)
    parts: list[tuple[URIRef, object]] = [(GRAPH["authority"], authority_quads(authority))]
    nil: dict[str, dict] = {}
    for source, result in zip(ok_sources, results):
        parts.append((source_graph(source.file), document_graph(source, result, source.read(), run, stubs)))
        for iri, info in result.nil_entities.items():
            nil.setdefault(iri, info)
    # senders and recipients the authority does not know are minted too
    for result in results:
        for m in result.messages:
            for iri in [m.sender, *m.recipients]:
                if iri and "/unreviewed/" in iri and iri not in nil:
                    nil[iri] = {"label": iri.rsplit("/", 1)[-1].replace("-", " ").title(), "type": iri.split("/")[-2].upper()}
    parts.append((GRAPH["entities"], minted_entities(nil)))
    parts.append((GRAPH["provenance"], provenance(run, ok_sources, nlp_meta, spacy.__version__)))
    ds = assemble(parts)
    nquads = canonical_nquads(ds)

    build_dir = new_build_dir(store)
    try:
        write_store(build_dir, nquads, {p: str(ns) for p, ns in PREFIXES.items()})
        summary.files = len(results)
        summary.messages = sum(len(r.messages) for r in results)
        summary.mentions = sum(len(r.mentions) for r in results)
        summary.linked = sum(1 for r in results for m in r.mentions if m.entity and "/unreviewed/" not in m.entity)
        summary.entities = len({m.entity for r in results for m in r.mentions if m.entity})
        summary.triples = nquads.count(b"\n")
        summary.errors = [str(e) for e in errors]
        summary.build_id = build_dir.name
        summary.seconds = round(time.perf_counter() - t0, 2)
        info = {**summary.__dict__, "version": __version__, "pipeline": version, "model": model,
                "sources": [s.file for s in ok_sources], "seeds": str(Path(seeds_dir).resolve())}
        (build_dir / "build.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
        publish(store, build_dir)
    except BaseException:
        shutil.rmtree(build_dir, ignore_errors=True)
        raise
    return summary


def canonical_nquads(ds) -> bytes:
    """N-Quads, one statement per line, sorted: byte-identical for identical input."""
    data = ds.serialize(format="nquads", encoding="utf-8")
    lines = sorted(set(line for line in data.split(b"\n") if line.strip()))
    return b"\n".join(lines) + b"\n"


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
