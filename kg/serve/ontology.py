"""The vocabulary (ontology/wkg.ttl) at `<base>ontology`, where all its `#term` IRIs dereference.

It is a file of the checkout, not part of the built graph, so it is answered from the Site's parsed copy
rather than from the store; it still follows --base like everything else.
"""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox

from .answers import Answer, Request, text_answer
from .formats import GRAPH_FORMATS, HTML_TYPES, SUFFIXES, format_param, negotiate, turtle
from .render import Renderer
from .site import RDF_TYPE, RDFS, WKG, Site, local_name


def ontology_terms(site: Site) -> list[dict[str, Any]]:
    """The vocabulary's own terms with their kind, label and comment, for its HTML page."""
    terms: dict[str, dict[str, Any]] = {}
    for t in site.ontology:
        s = t.subject.value
        if not s.startswith(WKG):
            continue
        term = terms.setdefault(s, {"iri": s, "name": s[len(WKG):], "kinds": [], "label": None, "comment": None})
        if t.predicate.value == RDF_TYPE:
            term["kinds"].append(local_name(t.object.value))
        elif t.predicate.value == RDFS + "label":
            term["label"] = t.object.value
        elif t.predicate.value == RDFS + "comment":
            term["comment"] = t.object.value
    return sorted(terms.values(), key=lambda x: (not x["name"][:1].isupper(), x["name"].lower()))


def answer(req: Request, site: Site, renderer: Renderer) -> Answer:
    """The vocabulary document (ontology/wkg.ttl): its terms are `<base>ontology#term`, so this one address
    answers for all of them."""
    if not site.ontology:
        return renderer.not_found(req, "this installation has no ontology/wkg.ttl")
    suffix = req.path[req.path.index(".", req.path.rindex("/")):] if "." in req.path.rsplit("/", 1)[-1] else ""
    forced = SUFFIXES.get(suffix) if suffix else None
    if suffix and forced is None:
        return renderer.not_found(req)
    offers = ["text/html", "text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml", "application/json"]
    fmt = req.param("format")
    if fmt:
        forced, why = format_param(fmt, offers, "the vocabulary")
        if forced is None:
            return text_answer(400, why or "")
    media = forced or negotiate(req.accept(), offers)
    if media is None:
        return text_answer(406, "the vocabulary is available as " + ", ".join(offers))
    triples = site._rebase_triples(site.ontology)
    if media in HTML_TYPES or media == "application/json":
        ctx = {"iri": site.graph_base + "ontology", "terms": ontology_terms(site)}
        ans = renderer.json_answer(ctx) if media == "application/json" else renderer.render("ontology.html", ctx, "wartime-kg vocabulary")
    elif media == "text/turtle":
        ans = Answer(200, "text/turtle; charset=utf-8", turtle(triples, site.prefixes()))
    else:
        ans = Answer(200, f"{media}; charset=utf-8", ox.serialize(triples, format=GRAPH_FORMATS[media]))
    if not forced:
        ans.headers["Vary"] = "Accept"
    return ans
