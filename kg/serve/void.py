"""The VoID description at /.well-known/void: what the dataset is, how big, and where to query or download it.

Its counts scan the whole graph, so they are computed once per server (and at start-up, by kg.serve.http,
rather than for the first visitor). The endpoint and dump addresses depend on how clients reach this
server, so the caller passes the root (--base, else the Host header).
"""

from __future__ import annotations

import functools
from typing import Any

import pyoxigraph as ox

from . import pages
from .answers import Answer, Request, text_answer
from .formats import GRAPH_FORMATS, HTML_TYPES, SUFFIXES, format_param, negotiate, turtle
from .render import Renderer
from .site import DCT, RDF_TYPE, SKOS, WKG, Site


@functools.lru_cache(maxsize=1)
def counts(site: Site) -> dict[str, Any]:
    """The dataset's sizes and graphs, once per server: each count scans the whole graph."""
    c = site.select("""SELECT (COUNT(*) AS ?triples) WHERE { GRAPH ?g { ?s ?p ?o } }""")[0]
    c.update(site.select("""SELECT (COUNT(DISTINCT ?s) AS ?entities) WHERE { GRAPH ?g { ?s ?p ?o }
                            FILTER(isIRI(?s) && !CONTAINS(STR(?s), "#")) }""")[0])
    c.update(site.select("""SELECT (COUNT(DISTINCT ?s) AS ?subjects) WHERE { GRAPH ?g { ?s ?p ?o } }""")[0])
    c.update(site.select("""SELECT (COUNT(DISTINCT ?o) AS ?objects) WHERE { GRAPH ?g { ?s ?p ?o } }""")[0])
    c.update(site.select("""SELECT (COUNT(DISTINCT ?p) AS ?properties) WHERE { GRAPH ?g { ?s ?p ?o } }""")[0])
    c.update(site.select("""SELECT (COUNT(DISTINCT ?c) AS ?classes) WHERE { GRAPH ?g { ?s a ?c } }""")[0])
    c["graphs"] = site.select("""SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g""")
    top = pages.home(site)["top_entities"]
    c["examples"] = [t["iri"] for t in top[:3]]
    return c


def description(site: Site, root: str) -> list[ox.Triple]:
    """The VoID description. `root` is where this server answers (http://host:port/), for the endpoint and dumps."""
    V = "http://rdfs.org/ns/void#"
    XSD = "http://www.w3.org/2001/XMLSchema#"
    c = counts(site)
    ds = ox.NamedNode(site.public_base + "dataset")
    doc = ox.NamedNode(root + ".well-known/void")

    def n(x: str) -> ox.NamedNode:
        return ox.NamedNode(x)

    def count(x: int) -> ox.Literal:
        return ox.Literal(str(x), datatype=n(XSD + "integer"))

    t = [
        ox.Triple(doc, n(RDF_TYPE), n(V + "DatasetDescription")),
        ox.Triple(doc, n(DCT + "title"), ox.Literal("VoID description of wartime-kg", language="en")),
        ox.Triple(doc, n("http://xmlns.com/foaf/0.1/primaryTopic"), ds),
        ox.Triple(ds, n(RDF_TYPE), n(V + "Dataset")),
        ox.Triple(ds, n(DCT + "title"), ox.Literal("wartime-kg: the Allied wartime correspondence of J. V. Stalin", language="en")),
        ox.Triple(ds, n(DCT + "description"), ox.Literal(
            "Messages, mentions (W3C Web Annotation), people, places, organisations, events and offices extracted "
            "from Stalin's wartime correspondence, with provenance for every statement.", language="en")),
        ox.Triple(ds, n(V + "triples"), count(c["triples"])),
        ox.Triple(ds, n(V + "entities"), count(c["entities"])),
        ox.Triple(ds, n(V + "distinctSubjects"), count(c["subjects"])),
        ox.Triple(ds, n(V + "distinctObjects"), count(c["objects"])),
        ox.Triple(ds, n(V + "properties"), count(c["properties"])),
        ox.Triple(ds, n(V + "classes"), count(c["classes"])),
        ox.Triple(ds, n(V + "sparqlEndpoint"), n(root + "query")),
        ox.Triple(ds, n(V + "dataDump"), n(root + "dumps/graph.nq.gz")),
        ox.Triple(ds, n(V + "dataDump"), n(root + "dumps/graph.ttl.gz")),
        ox.Triple(ds, n(V + "uriSpace"), ox.Literal(site.public_base)),
        ox.Triple(ds, n(V + "feature"), n("http://www.w3.org/ns/formats/Turtle")),
        ox.Triple(ds, n(V + "feature"), n("http://www.w3.org/ns/formats/N-Quads")),
        ox.Triple(ds, n(V + "feature"), n("http://www.w3.org/ns/formats/JSON-LD")),
    ]
    for ns in ("https://schema.org/", "http://www.w3.org/ns/oa#", "http://www.w3.org/ns/org#", SKOS,
               "http://www.w3.org/ns/prov#", "http://www.w3.org/2002/07/owl#", WKG):
        t.append(ox.Triple(ds, n(V + "vocabulary"), n(site.public(ns))))
    for ex in c["examples"]:
        t.append(ox.Triple(ds, n(V + "exampleResource"), n(site.public(ex))))
    for g in c["graphs"]:
        gi = n(site.public(g["g"]))
        t.append(ox.Triple(ds, n(V + "subset"), gi))
        t.append(ox.Triple(gi, n(RDF_TYPE), n(V + "Dataset")))
        t.append(ox.Triple(gi, n(V + "triples"), count(g["n"])))
    return t


def answer(req: Request, site: Site, renderer: Renderer, root: str) -> Answer:
    """/.well-known/void in Turtle, N-Triples, JSON-LD, RDF/XML or as a page, by Accept, ?format= or suffix."""
    path = req.path
    forced = None
    offers = ["text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml", "text/html", "application/x-turtle"]
    for suffix, media in SUFFIXES.items():
        if path == "/.well-known/void" + suffix and media in offers:  # no void.json: it has no page JSON
            forced = media
    if path != "/.well-known/void" and forced is None:
        return renderer.not_found(req)
    fmt = req.param("format")
    if fmt:
        forced, why = format_param(fmt, offers, "the VoID description")
        if forced is None:
            return text_answer(400, why or "")
    media = forced or negotiate(req.accept(), offers)
    if media is None:
        return text_answer(406, "the VoID description is available as " + ", ".join(offers))
    triples = description(site, root)
    ttl = turtle(triples, {"void": "http://rdfs.org/ns/void#", "dcterms": DCT, "foaf": "http://xmlns.com/foaf/0.1/",
                           "xsd": "http://www.w3.org/2001/XMLSchema#"})
    if media in HTML_TYPES:
        ans = renderer.render("void.html", {"turtle": ttl.decode(), "counts": counts(site)}, "VoID description")
    elif media in ("text/turtle", "application/x-turtle"):
        ans = Answer(200, f"{media}; charset=utf-8", ttl)
    else:
        ans = Answer(200, f"{media}; charset=utf-8", ox.serialize(triples, format=GRAPH_FORMATS[media]))
    if not forced:
        ans.headers["Vary"] = "Accept"
    return ans
