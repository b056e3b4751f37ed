"""Cool URIs: one resource, one address, and the representation the client asks for.

A path under id/, message/, source/, annotation/, ... names an IRI of the graph; the same address answers
HTML, page JSON, Turtle, N-Triples, JSON-LD or RDF/XML by Accept, ?format= or a file suffix, with Link
headers to the others. The RDF of a resource is built here by several small queries from the bound IRI.
"""

from __future__ import annotations

import pyoxigraph as ox

from ..namespaces import sparql_prologue
from . import pages
from .answers import Answer, Cached, Request, text_answer
from .formats import GRAPH_FORMATS, HTML_TYPES, RESOURCE_TYPES, SUFFIXES, format_param, negotiate, turtle
from .render import Renderer
from .site import RDF_TYPE, Site, iri_ref, local_name

DESCRIBE_MENTIONS = 1000  # mentions included in an entity's RDF description


def describe(site: Site, iri: str) -> list[ox.Triple]:
    """The RDF about one IRI: its own triples (every graph), the triples that point at it, and the mentions
    of it (or in it, for a message) with their targets and selectors, at most DESCRIBE_MENTIONS of them.
    Several small queries, each starting from a bound IRI, rather than one CONSTRUCT of UNIONs: SPARQL
    evaluates groups bottom-up, so a UNION branch cannot see bindings made outside it and would scan."""
    ref = iri_ref(iri)
    subjects = [ref]
    if iri.startswith(site.graph_base + "annotation/"):
        subjects += [iri_ref(f"{iri}#{f}") for f in ("target", "position", "quote")]
    annotations = [r["a"] for r in site.select(f"""
        SELECT DISTINCT ?a WHERE {{ {{ ?a oa:hasBody {ref} }} UNION {{ ?a wkg:inMessage {ref} }} }}
        ORDER BY ?a LIMIT {DESCRIBE_MENTIONS}""")]
    values = " ".join(iri_ref(a) for a in annotations)
    queries = [f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES ?s {{ {' '.join(subjects)} }} ?s ?p ?o }}",
               f"CONSTRUCT {{ ?s ?p {ref} }} WHERE {{ ?s ?p {ref} }}"]
    if annotations:
        queries += [f"CONSTRUCT {{ ?a ?p ?o }} WHERE {{ VALUES ?a {{ {values} }} ?a ?p ?o }}",
                    f"CONSTRUCT {{ ?t ?p ?o }} WHERE {{ VALUES ?a {{ {values} }} ?a oa:hasTarget ?t . ?t ?p ?o }}",
                    f"CONSTRUCT {{ ?x ?p ?o }} WHERE {{ VALUES ?a {{ {values} }} ?a oa:hasTarget ?t . ?t oa:hasSelector ?x . ?x ?p ?o }}"]
    triples: dict[ox.Triple, None] = {}
    for q in queries:
        for t in site.store.query(sparql_prologue() + q, use_default_graph_as_union=True):
            triples.setdefault(t, None)
    return site._rebase_triples(list(triples))


def dereference(req: Request, site: Site, renderer: Renderer, cached: Cached) -> Answer:
    """A Cool URI: the same resource as HTML, RDF or page JSON, by Accept, ?format= or a file suffix."""
    path, forced = req.path, None
    iri = site.iri_for_path(path)  # None for anything that is not one of our IRIs
    if iri is None or not site.exists(iri):
        iri = None
        for suffix, media in SUFFIXES.items():
            if path.endswith(suffix):
                cand = site.iri_for_path(path[: -len(suffix)])
                if cand and site.exists(cand):
                    iri, forced = cand, media
                break
    if iri is None:
        return renderer.not_found(req)
    fmt = req.param("format")
    if fmt:
        forced, why = format_param(fmt, RESOURCE_TYPES, "this resource")
        if forced is None:
            return text_answer(400, why or "")
    media = forced or negotiate(req.accept(), RESOURCE_TYPES)
    if media is None:
        return text_answer(406, "this resource is available as " + ", ".join(RESOURCE_TYPES))
    canonical = site.href(iri)
    alternates = [(m, f"{canonical}{s}") for s, m in SUFFIXES.items() if s != ".html"]
    headers = {"Link": ", ".join(f'<{u}>; rel="alternate"; type="{m}"' for m, u in alternates)}
    if not forced:
        headers["Vary"] = "Accept"
    ans = cached(("resource", iri, media), lambda: represent(site, renderer, iri, media, alternates))
    ans.headers.update(headers)
    ans.headers["Content-Location"] = f"{canonical}{next((s for s, m in SUFFIXES.items() if m == media), '')}"
    return ans


def represent(site: Site, renderer: Renderer, iri: str, media: str, alternates: list[tuple[str, str]]) -> Answer:
    """One resource in one media type: a page (HTML or its JSON) or its RDF description."""
    if media in HTML_TYPES or media == "application/json":
        types = {s["o"] for s in site.statements(iri) if s["p"] == RDF_TYPE}
        kind = site.kind(iri, types)
        ctx = {"message": pages.message, "source": pages.source, "entity": pages.entity}.get(kind, pages.resource)(site, iri)
        if media == "application/json":
            ans = renderer.json_answer({"kind": kind, **ctx})
        else:
            title = ctx.get("label") or ctx.get("title") or local_name(iri)
            ans = renderer.render(f"{kind}.html", ctx, title, alternates=alternates)
    else:
        fmt_ = GRAPH_FORMATS[media]  # dereference() lets through only the RESOURCE_TYPES, never a mislabelled body
        triples = describe(site, iri)
        body = turtle(triples, site.prefixes()) if fmt_ == ox.RdfFormat.TURTLE else ox.serialize(triples, format=fmt_)
        ans = Answer(200, f"{media}; charset=utf-8", body)
    return ans
