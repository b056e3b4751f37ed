"""Vocabulary terms as namespace constants, so no module builds IRIs from strings by hand."""

from __future__ import annotations

from rdflib import Namespace
from rdflib.namespace import DCTERMS, ORG, OWL, PROV, RDF, RDFS, SKOS, TIME, VOID, XSD

# The published base of our own IRIs. The graph is written with this base and rebased at load time when
# `kg build --base` (or WARTIME_KG_BASE) asks for another, so the data files never need editing.
DEFAULT_BASE = "https://w3id.org/wartime-kg/"

WKG = Namespace(DEFAULT_BASE + "ontology#")
ENT = Namespace(DEFAULT_BASE + "id/")
OFFICE = Namespace(DEFAULT_BASE + "id/office/")
TENURE = Namespace(DEFAULT_BASE + "id/tenure/")
MSG = Namespace(DEFAULT_BASE + "message/")
SRC = Namespace(DEFAULT_BASE + "source/")
ANNO = Namespace(DEFAULT_BASE + "annotation/")
GRAPH = Namespace(DEFAULT_BASE + "graph/")
RUN = Namespace(DEFAULT_BASE + "run/")

SCHEMA = Namespace("https://schema.org/")
OA = Namespace("http://www.w3.org/ns/oa#")
AS = Namespace("https://www.w3.org/ns/activitystreams#")
WD = Namespace("http://www.wikidata.org/entity/")
DBR = Namespace("http://dbpedia.org/resource/")
WIKI = Namespace("https://en.wikipedia.org/wiki/")
SH = Namespace("http://www.w3.org/ns/shacl#")

PREFIXES: dict[str, Namespace] = {
    "wkg": WKG,
    "ent": ENT,
    "office": OFFICE,
    "tenure": TENURE,
    "msg": MSG,
    "src": SRC,
    "anno": ANNO,
    "schema": SCHEMA,
    "oa": OA,
    "as": AS,
    "prov": PROV,
    "org": ORG,
    "skos": SKOS,
    "owl": OWL,
    "dcterms": DCTERMS,
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
    "time": TIME,
    "void": VOID,
    "wd": WD,
    "dbr": DBR,
}


def bind_all(graph) -> None:
    """Bind our prefixes so every serialisation reads the same way."""
    for prefix, ns in PREFIXES.items():
        graph.bind(prefix, ns, override=True)


def sparql_prologue() -> str:
    """PREFIX lines for canned and ad-hoc queries."""
    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())
