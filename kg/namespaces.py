"""Vocabulary terms as namespace constants, so no module builds IRIs from strings by hand."""

from __future__ import annotations

import functools
from urllib.parse import quote

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


@functools.lru_cache(maxsize=4096)  # called for every mention of a document, with the same name
def file_part(name: str) -> str:
    """A source file's name (or a piece of it) as it stands in our IRIs. The seeds' names
    ("001_3885a6e84abb0fe1") are left as they are, and so are letters beyond ASCII (an IRI holds them);
    a space, "#", "?", "%", "/" and every other character an IRI path cannot hold or would read as syntax
    are percent-encoded (UTF-8), so a corpus of files named like "FRUS 1943, vol. III.txt" gets valid
    IRIs, one per file."""
    return "".join(c if ucschar(c) else quote(c, safe="-._~!$&'()*+,;=:@") for c in name)


def ucschar(char: str) -> bool:
    """A character beyond ASCII that an IRI may hold unescaped (RFC 3987's ucschar)."""
    c = ord(char)
    return (0xA0 <= c <= 0xD7FF or 0xF900 <= c <= 0xFDCF or 0xFDF0 <= c <= 0xFFEF
            or (0x10000 <= c <= 0xEFFFD and c & 0xFFFE != 0xFFFE))
