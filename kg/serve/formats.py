"""Media types and content negotiation, shared by the query workers and the front process.

A worker negotiates the format of a SPARQL answer and the front negotiates pages and resources with the
same rules, so both import them from here rather than from each other.
"""

from __future__ import annotations

import pyoxigraph as ox

from ..store import safe_prefixes

RESULTS_FORMATS: dict[str, ox.QueryResultsFormat] = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "application/xml": ox.QueryResultsFormat.XML,
    "text/xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
GRAPH_FORMATS: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/x-turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "text/plain": ox.RdfFormat.N_TRIPLES,
}
# ?format= and file-name suffixes, for people who cannot set an Accept header
FORMAT_ALIASES: dict[str, str] = {
    "json": "application/json",
    "srj": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "srx": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "ttl": "text/turtle",
    "turtle": "text/turtle",
    "nt": "application/n-triples",
    "ntriples": "application/n-triples",
    "jsonld": "application/ld+json",
    "rdf": "application/rdf+xml",
    "rdfxml": "application/rdf+xml",
    "html": "text/html",
}
# What a resource path can answer, in the server's order of preference (ties go to the first)
RESOURCE_TYPES = ["text/html", "application/xhtml+xml", "text/turtle", "application/ld+json", "application/n-triples",
                  "application/rdf+xml", "application/json", "application/x-turtle"]
SUFFIXES = {".ttl": "text/turtle", ".nt": "application/n-triples", ".jsonld": "application/ld+json",
            ".rdf": "application/rdf+xml", ".json": "application/json", ".html": "text/html"}
HTML_TYPES = ("text/html", "application/xhtml+xml")


def parse_accept(header: str | None) -> list[tuple[str, float]]:
    """The media ranges of an Accept header with their q-values (parameters other than q are ignored)."""
    if not header or not header.strip():
        return [("*/*", 1.0)]
    out = []
    for part in header.split(","):
        bits = [b.strip() for b in part.split(";")]
        if not bits[0]:
            continue
        q = 1.0
        for b in bits[1:]:
            if b.lower().startswith("q="):
                try:
                    q = max(0.0, min(1.0, float(b[2:])))
                except ValueError:
                    q = 0.0
        out.append((bits[0].lower(), q))
    return out


def negotiate(accept: str | None, offers: list[str]) -> str | None:
    """The offer the client prefers (RFC 9110 q-values, the most specific range wins); None if it accepts none."""
    ranges = parse_accept(accept)
    best, best_q = None, 0.0
    for offer in offers:
        kind = offer.split("/")[0]
        q, specificity = 0.0, -1
        for rng, rq in ranges:
            spec = 2 if rng == offer else 1 if rng == f"{kind}/*" else 0 if rng == "*/*" else -1
            if spec > specificity:
                q, specificity = rq, spec
        if q > best_q:
            best, best_q = offer, q
    return best


def format_names(offers: list[str]) -> list[str]:
    """The ?format= names of the offered media types, one per type, in the order of the offers."""
    names = []
    for media in offers:
        name = next((a for a, m in FORMAT_ALIASES.items() if m == media), None)
        if name and name not in names:
            names.append(name)
    return names


def format_param(value: str, offers: list[str], what: str) -> tuple[str | None, str | None]:
    """A ?format= value as (media type, None) when it names one of the offers, else (None, why it is refused).
    A format the resource does not offer is refused rather than negotiated or served under a wrong type."""
    media = FORMAT_ALIASES.get(value.strip().lower())
    if media in offers:
        return media, None
    return None, f"{what} is not available as format={value[:40]}; format must be one of {', '.join(format_names(offers))}"


def turtle(triples: list[ox.Triple], prefixes: dict[str, str]) -> bytes:
    return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=safe_prefixes(triples, prefixes))
