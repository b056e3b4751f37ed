"""RDF for the build: messages (schema.org), mentions (W3C Web Annotation), entities, offices, provenance.

Every IRI is derived from the input (file, offsets, dates, authority slugs) and no triple carries a
wall-clock time, so the same inputs give the same triples. Blank nodes are avoided for the same reason:
selectors and targets get IRIs under their annotation's IRI.

Named graphs: one per source document (its messages, mentions and deliveries), `graph/authority` (the
curated authority file), `graph/entities` (entities the linker minted), `graph/provenance` (the run).

Each named graph is made as a plain set of rdflib triples and written straight to sorted N-Quads lines
(`nquad_lines`) with rdflib's own N-Quads row writer: an rdflib Graph or Dataset would index every
triple twice over only for the build to serialise it once, and the build never queries it.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from rdflib import BNode, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD

from . import __version__
from .authority import CLASS_OF_TYPE, Authority
from .build import DocResult
from .corpus import Source
from .namespaces import ANNO, AS, DBR, ENT, GRAPH, MSG, OA, RUN, SCHEMA, SRC, WD, WIKI, WKG, file_part

QUOTE_CONTEXT = 32

Triple = tuple[URIRef | BNode, URIRef, URIRef | BNode | Literal]
Triples = set[Triple]  # `g.add((s, p, o))` reads as it would on an rdflib Graph


def wikipedia_iris(title: str) -> tuple[URIRef, URIRef]:
    """DBpedia resource and Wikipedia page of an English Wikipedia title."""
    local = quote(title.replace(" ", "_"), safe="_(),'-.:!*$&+;=@")
    return DBR[local], WIKI[local]


def source_iri(source: Source) -> URIRef:
    return SRC[file_part(source.file.rsplit(".", 1)[0])]


def source_graph(source_file: str) -> URIRef:
    return GRAPH["source/" + file_part(source_file.rsplit(".", 1)[0])]


def authority_quads(authority: Authority) -> Triples:
    """The authority file as published: its own triples plus the DBpedia/Wikipedia links derived from titles."""
    g: Triples = set()
    for t in authority.graph:
        if isinstance(t[0], BNode) or isinstance(t[2], BNode):
            continue
        g.add(t)
    for e in list(authority.entities.values()) + list(authority.posts.values()):
        s = URIRef(e.iri)
        if e.wikipedia:
            dbr, page = wikipedia_iris(e.wikipedia)
            g.add((s, OWL.sameAs, dbr))
            g.add((s, SCHEMA.sameAs, page))
        g.add((s, WKG.reviewed, Literal(True)))
    for e in authority.entities.values():
        g.add((URIRef(e.iri), WKG.mentionType, Literal(e.type)))
    for t in authority.tenures:
        g.add((URIRef(t.person), URIRef("http://www.w3.org/ns/org#holds"), URIRef(t.post)))
    return g


def run_iri(version: str) -> URIRef:
    return RUN[version]


def provenance(run: URIRef, sources: list[Source], model_meta: dict, spacy_version: str) -> Triples:
    g: Triples = set()
    g.add((run, RDF.type, PROV.Activity))
    g.add((run, RDFS.label, Literal(f"wartime-kg build {run.rsplit('/', 1)[-1]}")))
    software = URIRef(f"https://w3id.org/wartime-kg/software/{__version__}")
    g.add((software, RDF.type, PROV.SoftwareAgent))
    g.add((software, RDFS.label, Literal(f"wartime-kg {__version__}")))
    g.add((run, PROV.wasAssociatedWith, software))
    model = URIRef(f"https://w3id.org/wartime-kg/model/{model_meta.get('lang', 'en')}_{model_meta.get('name')}-{model_meta.get('version')}")
    g.add((model, RDF.type, PROV.Entity))
    g.add((model, RDFS.label, Literal(f"spaCy model {model_meta.get('lang', 'en')}_{model_meta.get('name')} {model_meta.get('version')}")))
    g.add((model, WKG.spacyVersion, Literal(spacy_version)))
    g.add((run, PROV.used, model))
    for s in sources:
        g.add((run, PROV.used, source_iri(s)))
    return g


def source_triples(g: Triples, source: Source, sha256: str) -> None:
    s = source_iri(source)
    g.add((s, RDF.type, SCHEMA.CreativeWork))
    g.add((s, RDF.type, PROV.Entity))
    g.add((s, DCTERMS.title, Literal(source.title)))
    g.add((s, WKG.fileName, Literal(source.file)))
    g.add((s, WKG.sourceKind, Literal(source.kind)))
    g.add((s, WKG.sha256, Literal(sha256)))
    if source.citation:
        g.add((s, DCTERMS.bibliographicCitation, Literal(source.citation)))
    if source.url:
        g.add((s, SCHEMA.url, URIRef(source.url)))
    if source.genre:
        g.add((s, SCHEMA.genre, Literal(source.genre)))
    if source.date:
        g.add((s, DCTERMS.date, Literal(source.date)))


def _date_lit(value: str) -> Literal:
    return Literal(date.fromisoformat(value), datatype=XSD.date)


def document_graph(source: Source, result: DocResult, text: str, run: URIRef, stubs: dict[str, dict]) -> Triples:
    """The named graph of one source: its messages, mentions, deliveries and citations."""
    g: Triples = set()
    src = source_iri(source)
    source_triples(g, source, result.sha256)
    for m in result.messages:
        msg = URIRef(m.id)
        g.add((msg, RDF.type, SCHEMA.Message))
        g.add((msg, SCHEMA.isPartOf, src))
        g.add((msg, PROV.wasDerivedFrom, src))
        g.add((msg, PROV.wasGeneratedBy, run))
        g.add((msg, OA.start, Literal(m.start)))
        g.add((msg, OA.end, Literal(m.end)))
        g.add((msg, WKG.position, Literal(m.seq)))
        g.add((msg, RDFS.label, Literal(m.label or _message_label(m))))
        g.add((msg, SCHEMA.headline, Literal(m.header.replace("*", "").replace("\n", " ").strip())))
        if m.sender:
            g.add((msg, SCHEMA.sender, URIRef(m.sender)))
        for r in m.recipients:
            g.add((msg, SCHEMA.recipient, URIRef(r)))
        if m.date:
            g.add((msg, SCHEMA.dateCreated, _date_lit(m.date)))
        if m.date_sent:
            g.add((msg, SCHEMA.dateSent, _date_lit(m.date_sent)))
        if not m.date and not m.date_sent:
            g.add((msg, WKG.undated, Literal(True)))
            if m.approx_date:
                g.add((msg, WKG.approximateDate, _date_lit(m.approx_date)))
        for note in m.notes:
            g.add((msg, RDFS.comment, Literal(note)))
        for c in m.citations:
            target = stubs.get(f"{m.id}|{c['start']}")
            if target:
                g.add((msg, AS.inReplyTo, URIRef(target["id"])))
    for stub in {s["id"]: s for s in stubs.values() if s.get("stub") and s["source"] == source.file}.values():
        st = URIRef(stub["id"])
        g.add((st, RDF.type, SCHEMA.Message))
        g.add((st, WKG.stub, Literal(True)))
        g.add((st, RDFS.label, Literal(stub["label"])))
        g.add((st, SCHEMA.dateCreated, _date_lit(stub["date"])))
        if stub.get("sender"):
            g.add((st, SCHEMA.sender, URIRef(stub["sender"])))
        for r in stub.get("recipients", []):
            g.add((st, SCHEMA.recipient, URIRef(r)))
        g.add((st, RDFS.comment, Literal("Not in the corpus: known only because a message of the corpus cites it by date.")))
    for mention in result.mentions:
        _mention(g, mention, src, text, run)
    for i, d in enumerate(result.deliveries):
        rel = ANNO[f"{file_part(source.file.rsplit('.', 1)[0])}-{d['start']}-delivery-{i}"]
        g.add((URIRef(d["message"]), WKG.deliveredThrough, URIRef(d["through"])))
        g.add((rel, RDF.type, WKG.Delivery))
        g.add((rel, WKG.message, URIRef(d["message"])))
        g.add((rel, WKG.through, URIRef(d["through"])))
        if d.get("to"):
            g.add((rel, WKG.deliveredTo, URIRef(d["to"])))
        g.add((rel, WKG.cue, Literal(d["cue"])))
        g.add((rel, WKG.evidence, Literal(d["evidence"])))
        g.add((rel, OA.start, Literal(d["start"])))
        g.add((rel, OA.end, Literal(d["end"])))
        g.add((rel, PROV.wasDerivedFrom, src))
    return g


def _message_label(m) -> str:
    when = m.date or m.date_sent or "undated"
    return f"{m.header.replace('*', '').splitlines()[0].strip()[:80]} ({when})"


class _V:
    """The vocabulary terms written for every mention, looked up once: an rdflib Namespace builds a new
    URIRef on every attribute access, which was a third of the time of writing a mention."""

    OA_Annotation = OA.Annotation
    OA_SpecificResource = OA.SpecificResource
    OA_TextPositionSelector = OA.TextPositionSelector
    OA_TextQuoteSelector = OA.TextQuoteSelector
    OA_end = OA.end
    OA_exact = OA.exact
    OA_hasBody = OA.hasBody
    OA_hasSelector = OA.hasSelector
    OA_hasSource = OA.hasSource
    OA_hasTarget = OA.hasTarget
    OA_identifying = OA.identifying
    OA_motivatedBy = OA.motivatedBy
    OA_prefix = OA.prefix
    OA_start = OA.start
    OA_suffix = OA.suffix
    OA_tagging = OA.tagging
    PROV_wasGeneratedBy = PROV.wasGeneratedBy
    RDF_type = RDF.type
    WKG_inMessage = WKG.inMessage
    WKG_matchedAlias = WKG.matchedAlias
    WKG_mentionType = WKG.mentionType
    WKG_reason = WKG.reason
    WKG_score = WKG.score
    WKG_titleCue = WKG.titleCue
    WKG_viaOffice = WKG.viaOffice
    XSD_decimal = XSD.decimal


def _mention(g: Triples, m, src: URIRef, text: str, run: URIRef) -> None:
    stem = file_part(m.source.rsplit(".", 1)[0])
    a = ANNO[f"{stem}-{m.start}-{m.end}"]
    target = URIRef(f"{a}#target")
    pos = URIRef(f"{a}#position")
    quote_sel = URIRef(f"{a}#quote")
    g.add((a, _V.RDF_type, _V.OA_Annotation))
    g.add((a, _V.OA_motivatedBy, _V.OA_identifying if m.entity else _V.OA_tagging))
    g.add((a, _V.OA_hasTarget, target))
    g.add((a, _V.WKG_mentionType, Literal(m.type)))
    g.add((a, _V.WKG_inMessage, URIRef(m.message)))
    g.add((a, _V.PROV_wasGeneratedBy, run))
    if m.entity:
        g.add((a, _V.OA_hasBody, URIRef(m.entity)))
    if m.score is not None:
        g.add((a, _V.WKG_score, Literal(m.score, datatype=_V.XSD_decimal)))
    for r in m.reasons:
        g.add((a, _V.WKG_reason, Literal(r)))
    if m.alias:
        g.add((a, _V.WKG_matchedAlias, Literal(m.alias)))
    if m.title:
        g.add((a, _V.WKG_titleCue, Literal(m.title)))
    if m.office:
        g.add((a, _V.WKG_viaOffice, URIRef(m.office)))
    g.add((target, _V.RDF_type, _V.OA_SpecificResource))
    g.add((target, _V.OA_hasSource, src))
    g.add((target, _V.OA_hasSelector, pos))
    g.add((target, _V.OA_hasSelector, quote_sel))
    g.add((pos, _V.RDF_type, _V.OA_TextPositionSelector))
    g.add((pos, _V.OA_start, Literal(m.start)))
    g.add((pos, _V.OA_end, Literal(m.end)))
    g.add((quote_sel, _V.RDF_type, _V.OA_TextQuoteSelector))
    g.add((quote_sel, _V.OA_exact, Literal(m.text)))
    g.add((quote_sel, _V.OA_prefix, Literal(text[max(0, m.start - QUOTE_CONTEXT) : m.start])))
    g.add((quote_sel, _V.OA_suffix, Literal(text[m.end : m.end + QUOTE_CONTEXT])))


def minted_entities(nil_entities: dict[str, dict]) -> Triples:
    """Entities the authority does not know: typed, labelled, and marked as not reviewed."""
    g: Triples = set()
    for iri, info in sorted(nil_entities.items()):
        s = URIRef(iri)
        cls = CLASS_OF_TYPE.get(info["type"])
        if cls is not None:
            g.add((s, RDF.type, cls))
        g.add((s, SKOS.prefLabel, Literal(info["label"], lang="en")))
        g.add((s, WKG.mentionType, Literal(info["type"])))
        g.add((s, WKG.reviewed, Literal(False)))
    return g


def nquad_lines(graph_name: URIRef, triples: Triples) -> list[bytes]:
    """The named graph as sorted N-Quads lines (each ending in a newline): the bytes rdflib's N-Quads
    serializer writes for these triples (its row writer, `_nq_row`, does the same per term), sorted so
    that equal graphs give equal files. IRIs are written once each: most triples repeat them."""
    from rdflib.plugins.serializers.nt import _quoteLiteral  # the N-Triples literal writer (rdflib is pinned)

    g = graph_name.n3()
    written: dict[object, str] = {}
    lines = []
    for s, p, o in triples:
        ts = written.get(s)
        if ts is None:
            ts = written[s] = s.n3()
        tp = written.get(p)
        if tp is None:
            tp = written[p] = p.n3()
        if isinstance(o, Literal):
            to = _quoteLiteral(o)
        else:
            to = written.get(o)
            if to is None:
                to = written[o] = o.n3()
        lines.append(f"{ts} {tp} {to} {g} .\n".encode("utf-8", "replace"))
    lines.sort()
    return lines


__all__ = ["authority_quads", "document_graph", "minted_entities", "nquad_lines", "provenance", "source_graph",
           "GRAPH", "MSG", "ENT", "WD"]
