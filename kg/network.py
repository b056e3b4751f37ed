"""`kg export gexf|graphml|csv|cmif|png|svg`: the correspondence as networks for Gephi, Cytoscape and correspSearch.

Data flows one way: the store answers SPARQL (the published graph, exactly what the endpoint serves),
the answers become a networkx graph (`build_network`), and each writer turns that graph into a file.
No writer goes back to the store, so every format of one network has the same nodes and edges.

Three networks:

- correspondence: senders and recipients of messages (stubs included: cited letters exist even when
  their text is not in the corpus), one directed edge per (sender, recipient) pair, weighted by the
  number of messages, with the date of each message as a spell so Gephi's timeline animates the war.
- co-mention: entities linked in the same message, one undirected edge per pair, weighted by the number
  of messages mentioning both, with the first and last such date.
- bipartite: messages and the entities they mention, weighted by the number of mentions.

A message's date is schema:dateCreated, else schema:dateSent, else the builder's wkg:approximateDate for
letters printed without one (counted per edge as `undated`, so the estimate stays visible).

GEXF is written with lxml rather than `networkx.write_gexf`, whose output the GEXF 1.3 schema rejects
(an empty `graph/@name`, a wrong `xsi` namespace) and which cannot write date spells Gephi understands.
"""

from __future__ import annotations

import csv
import io
import math
import os
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import combinations
from pathlib import Path
from typing import IO, Any

import networkx as nx
import pyoxigraph as ox
from lxml import etree

from . import __version__
from .errors import KGError
from .exports import select

NETWORKS = ("correspondence", "co-mention", "bipartite")

GEXF_NS = "http://gexf.net/1.3"
VIZ_NS = "http://gexf.net/1.3/viz"
TEI_NS = "http://www.tei-c.org/ns/1.0"
XML_NS = "http://www.w3.org/XML/1998/namespace"

# Colour by type, shared by GEXF (viz:color), GraphML/CSV (a hex column) and the picture, so a node keeps
# its colour from Gephi to the README. Tableau 10: distinguishable, and readable by most colour-blind eyes.
TYPE_COLORS: dict[str, str] = {
    "PERSON": "#4e79a7",
    "ORG": "#f28e2b",
    "PLACE": "#59a14f",
    "EVENT": "#e15759",
    "MESSAGE": "#bab0ac",
}
OTHER_COLOR = "#b07aa1"

# --- SPARQL: everything the networks know comes from these queries --------------------------------------

ENTITY_QUERY = """
SELECT DISTINCT ?e ?label ?type ?wd WHERE {
  ?e skos:prefLabel ?label .
  OPTIONAL { ?e wkg:mentionType ?type }
  OPTIONAL { ?e owl:sameAs ?wd FILTER(STRSTARTS(STR(?wd), STR(wd:))) }
}
ORDER BY ?e ?label ?type ?wd
"""

MESSAGE_QUERY = """
SELECT DISTINCT ?m ?label ?created ?sent ?approx ?stub WHERE {
  ?m a schema:Message .
  OPTIONAL { ?m rdfs:label ?label }
  OPTIONAL { ?m schema:dateCreated ?created }
  OPTIONAL { ?m schema:dateSent ?sent }
  OPTIONAL { ?m wkg:approximateDate ?approx }
  OPTIONAL { ?m wkg:stub ?stub }
}
"""

CORRESPONDENT_QUERY = """
SELECT DISTINCT ?m ?role ?p WHERE {
  ?m a schema:Message .
  { ?m schema:sender ?p BIND("sent" AS ?role) } UNION { ?m schema:recipient ?p BIND("received" AS ?role) }
}
"""

MENTION_QUERY = """
SELECT DISTINCT ?a ?e ?m WHERE { ?a a oa:Annotation ; oa:hasBody ?e ; wkg:inMessage ?m . }
"""

SOURCE_QUERY = """
SELECT DISTINCT ?m ?src ?title ?citation ?url WHERE {
  GRAPH ?g { ?m a schema:Message . ?src wkg:fileName ?file ; dcterms:title ?title . }
  OPTIONAL { ?src dcterms:bibliographicCitation ?citation }
  OPTIONAL { ?src schema:url ?url }
}
ORDER BY ?m ?src
"""


# --- what the store says, gathered once ----------------------------------------------------------------


@dataclass
class Message:
    iri: str
    label: str
    date: str | None  # ISO date, the best one known
    approximate: bool  # True when `date` is an estimate (or missing)
    stub: bool
    senders: set[str] = field(default_factory=set)
    recipients: set[str] = field(default_factory=set)


@dataclass
class Entity:
    iri: str
    label: str
    type: str
    wikidata: str | None


@dataclass
class Facts:
    """The answers of the queries above, indexed; the only input of `build_network` and `write_cmif`."""

    messages: dict[str, Message]
    entities: dict[str, Entity]
    mentions: list[tuple[str, str, str]]  # (annotation, entity, message)

    def entity(self, iri: str) -> Entity:
        """An entity even when the store has no label for it (a correspondent nobody described yet)."""
        known = self.entities.get(iri)
        if known is not None:
            return known
        local = iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
        return Entity(iri, local.replace("-", " "), "OTHER", None)


def gather(store: ox.Store) -> Facts:
    """Run the queries. Rows are deduplicated here because the union of named graphs repeats a triple
    found in two graphs (a stub cited from two sources)."""
    entities: dict[str, Entity] = {}
    for row in select(store, ENTITY_QUERY):
        wd = row["wd"].rsplit("/", 1)[-1] if row["wd"] else None
        known = entities.get(row["e"])
        if known is None:
            entities[row["e"]] = Entity(row["e"], " ".join(str(row["label"]).split()), row["type"] or "OTHER", wd)
        else:  # ORDER BY made the first row win; only fill in what it lacked
            if known.type == "OTHER" and row["type"]:
                known.type = row["type"]
            if known.wikidata is None and wd:
                known.wikidata = wd

    dates: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    labels: dict[str, str] = {}
    stubs: set[str] = set()
    for row in select(store, MESSAGE_QUERY):
        m = row["m"]
        entry = dates[m]  # created even for a message with no date at all
        for key in ("created", "sent", "approx"):
            if row[key]:
                entry[key].append(str(row[key]))
        if row["label"] and (m not in labels or row["label"] < labels[m]):
            labels[m] = row["label"]
        if row["stub"] in ("true", "1", True):
            stubs.add(m)
    messages: dict[str, Message] = {}
    for m, d in dates.items():
        best = d.get("created") or d.get("sent")
        when = min(best) if best else (min(d["approx"]) if d.get("approx") else None)
        messages[m] = Message(m, " ".join(labels.get(m, m).split()), when, not best, m in stubs)
    for row in select(store, CORRESPONDENT_QUERY):
        msg = messages.get(row["m"])
        if msg is not None:
            (msg.senders if row["role"] == "sent" else msg.recipients).add(row["p"])
    mentions = sorted((row["a"], row["e"], row["m"]) for row in select(store, MENTION_QUERY))
    return Facts(messages, entities, mentions)


# --- networks ----------------------------------------------------------------------------------------


def _span(dates: list[str]) -> tuple[str | None, str | None]:
    return (min(dates), max(dates)) if dates else (None, None)


def _entity_node(facts: Facts, iri: str, mentions: Counter, dates: list[str]) -> dict[str, Any]:
    e = facts.entity(iri)
    start, end = _span(dates)
    return {
        "iri": iri,
        "label": e.label,
        "type": e.type,
        "wikidata": e.wikidata,
        "mentions": mentions.get(iri, 0),
        "start": start,
        "end": end,
        "color": TYPE_COLORS.get(e.type, OTHER_COLOR),
    }


def correspondence(facts: Facts) -> nx.DiGraph:
    """People -> people, one edge per directed pair; the edge keeps the date of every message (spells)."""
    g = nx.DiGraph(network="correspondence", edge_time="spells")
    mention_counts = Counter(e for _, e, _ in facts.mentions)
    pair_messages: dict[tuple[str, str], list[Message]] = defaultdict(list)
    node_dates: dict[str, list[str]] = defaultdict(list)
    sent: Counter = Counter()
    received: Counter = Counter()
    for msg in facts.messages.values():
        for p in msg.senders | msg.recipients:
            node_dates[p] += [msg.date] if msg.date else []
        for s in msg.senders:
            sent[s] += 1
        for r in msg.recipients:
            received[r] += 1
        for s in msg.senders:
            for r in msg.recipients:
                pair_messages[(s, r)].append(msg)
    for p in sorted(node_dates):
        g.add_node(p, **_entity_node(facts, p, mention_counts, node_dates[p]), sent=sent[p], received=received[p])
    for (s, r), msgs in sorted(pair_messages.items()):
        dated = sorted({m.date for m in msgs if m.date})
        start, end = _span(dated)
        g.add_edge(s, r, weight=len(msgs), dates=dated, start=start, end=end, undated=sum(m.approximate for m in msgs))
    return g


def co_mention(facts: Facts) -> nx.Graph:
    """Entities linked in the same message; weight = messages that mention both, with the first and last date."""
    g = nx.Graph(network="co-mention", edge_time="interval")
    mention_counts = Counter(e for _, e, _ in facts.mentions)
    by_message: dict[str, set[str]] = defaultdict(set)
    for _, e, m in facts.mentions:
        by_message[m].add(e)
    node_dates: dict[str, list[str]] = defaultdict(list)
    pair_dates: dict[tuple[str, str], list[str]] = defaultdict(list)
    pair_weight: Counter = Counter()
    in_messages = Counter(e for ents in by_message.values() for e in ents)
    for m, ents in by_message.items():
        when = facts.messages[m].date if m in facts.messages else None
        for e in ents:
            node_dates[e] += [when] if when else []
        for a, b in combinations(sorted(ents), 2):
            pair_weight[(a, b)] += 1
            pair_dates[(a, b)] += [when] if when else []
    for e in sorted(node_dates):
        g.add_node(e, **_entity_node(facts, e, mention_counts, node_dates[e]), messages=in_messages[e])
    for (a, b), w in sorted(pair_weight.items()):
        dated = sorted(set(pair_dates[(a, b)]))
        start, end = _span(dated)
        g.add_edge(a, b, weight=w, dates=dated, start=start, end=end)
    return g


def bipartite(facts: Facts) -> nx.Graph:
    """Messages and the entities they mention (only messages with at least one linked mention)."""
    g = nx.Graph(network="bipartite", edge_time="interval")
    mention_counts = Counter(e for _, e, _ in facts.mentions)
    per_message = Counter(m for _, _, m in facts.mentions)
    pair_weight = Counter((m, e) for _, e, m in facts.mentions)
    entity_dates: dict[str, list[str]] = defaultdict(list)
    for (m, e) in pair_weight:
        when = facts.messages[m].date if m in facts.messages else None
        entity_dates[e] += [when] if when else []
    for m in sorted(per_message):
        msg = facts.messages.get(m) or Message(m, m, None, True, False)
        g.add_node(m, iri=m, label=msg.label, type="MESSAGE", wikidata=None, mentions=per_message[m],
                   start=msg.date, end=msg.date, color=TYPE_COLORS["MESSAGE"], bipartite=0)
    for e in sorted(entity_dates):
        g.add_node(e, **_entity_node(facts, e, mention_counts, entity_dates[e]), bipartite=1)
    for (m, e), w in sorted(pair_weight.items()):
        when = g.nodes[m]["start"]
        g.add_edge(m, e, weight=w, dates=[when] if when else [], start=when, end=when)
    return g


BUILDERS = {"correspondence": correspondence, "co-mention": co_mention, "bipartite": bipartite}


def build_network(facts: Facts, network: str) -> nx.Graph:
    """One of the three networks, with the graph-wide time span Gephi's timeline opens on."""
    if network not in BUILDERS:
        raise KGError(f"unknown network {network!r}: choose one of {', '.join(NETWORKS)}")
    g = BUILDERS[network](facts)
    starts = [d["start"] for _, d in g.nodes(data=True) if d.get("start")]
    ends = [d["end"] for _, d in g.nodes(data=True) if d.get("end")]
    g.graph["start"] = min(starts) if starts else None
    g.graph["end"] = max(ends) if ends else None
    return g


# --- GEXF 1.3 -----------------------------------------------------------------------------------------

# Attribute columns per network: (key in the networkx data, GEXF type). Only static attributes; time lives
# in spells and start/end, where Gephi's timeline looks for it.
NODE_ATTRIBUTES: dict[str, list[tuple[str, str]]] = {
    "correspondence": [("iri", "string"), ("type", "string"), ("wikidata", "string"), ("mentions", "integer"),
                       ("sent", "integer"), ("received", "integer")],
    "co-mention": [("iri", "string"), ("type", "string"), ("wikidata", "string"), ("mentions", "integer"),
                   ("messages", "integer")],
    "bipartite": [("iri", "string"), ("type", "string"), ("wikidata", "string"), ("mentions", "integer")],
}
EDGE_ATTRIBUTES: dict[str, list[tuple[str, str]]] = {
    "correspondence": [("undated", "integer")],
    "co-mention": [],
    "bipartite": [],
}


def _rgb(hex_color: str) -> tuple[int, int, int]:
    h = hex_color.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _node_size(mentions: int, most: int) -> float:
    """Area grows with mentions (square root), so a hub does not swallow the canvas."""
    return round(4.0 + 36.0 * math.sqrt(mentions / most), 2) if most else 4.0


def _attvalues(parent: etree._Element, data: dict, columns: list[tuple[str, str]]) -> None:
    values = [(key, data.get(key)) for key, _ in columns if data.get(key) is not None]
    if not values:
        return
    av = etree.SubElement(parent, f"{{{GEXF_NS}}}attvalues")
    for key, value in values:
        etree.SubElement(av, f"{{{GEXF_NS}}}attvalue", {"for": key, "value": str(value)})


def _time(el: etree._Element, start: str | None, end: str | None) -> None:
    if start:
        el.set("start", start)
    if end:
        el.set("end", end)


def gexf_tree(g: nx.Graph) -> etree._ElementTree:
    """The network as a GEXF 1.3 document: dynamic, dates as time, attributes and colours for Gephi."""
    network = g.graph["network"]
    E = lambda tag: f"{{{GEXF_NS}}}{tag}"  # noqa: E731
    root = etree.Element(E("gexf"), nsmap={None: GEXF_NS, "viz": VIZ_NS}, version="1.3")
    meta = etree.SubElement(root, E("meta"))
    etree.SubElement(meta, E("creator")).text = f"wartime-kg {__version__}"
    etree.SubElement(meta, E("keywords")).text = "Second World War, Stalin, correspondence, knowledge graph"
    etree.SubElement(meta, E("description")).text = f"The {network} network of the wartime-kg knowledge graph."
    graph = etree.SubElement(root, E("graph"), defaultedgetype="directed" if g.is_directed() else "undirected",
                             mode="dynamic", timeformat="date")
    _time(graph, g.graph.get("start"), g.graph.get("end"))
    for cls, columns in (("node", NODE_ATTRIBUTES[network]), ("edge", EDGE_ATTRIBUTES[network])):
        if not columns:
            continue
        attrs = etree.SubElement(graph, E("attributes"), {"class": cls, "mode": "static"})
        for key, typ in columns:
            etree.SubElement(attrs, E("attribute"), id=key, title=key, type=typ)

    most = max((d["mentions"] for _, d in g.nodes(data=True)), default=0)
    nodes = etree.SubElement(graph, E("nodes"), count=str(g.number_of_nodes()))
    for n, d in g.nodes(data=True):
        node = etree.SubElement(nodes, E("node"), id=n, label=d["label"])
        _time(node, d.get("start"), d.get("end"))
        _attvalues(node, d, NODE_ATTRIBUTES[network])
        r, gr, b = _rgb(d["color"])
        etree.SubElement(node, f"{{{VIZ_NS}}}color", r=str(r), g=str(gr), b=str(b))
        etree.SubElement(node, f"{{{VIZ_NS}}}size", value=str(_node_size(d["mentions"], most)))

    edges = etree.SubElement(graph, E("edges"), count=str(g.number_of_edges()))
    for i, (s, t, d) in enumerate(g.edges(data=True)):
        edge = etree.SubElement(edges, E("edge"), id=str(i), source=s, target=t, weight=str(d["weight"]))
        if g.graph["edge_time"] == "spells" and d["dates"]:
            # spells only, no start/end envelope: Gephi would add it as one more interval, overlapping them
            spells = etree.SubElement(edge, E("spells"))
            for day in d["dates"]:  # one instant per distinct day: Gephi refuses overlapping intervals
                etree.SubElement(spells, E("spell"), start=day, end=day)
        else:
            _time(edge, d.get("start"), d.get("end"))
        _attvalues(edge, d, EDGE_ATTRIBUTES[network])
    return etree.ElementTree(root)


def write_gexf(g: nx.Graph, out: IO[bytes]) -> None:
    gexf_tree(g).write(out, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# --- GraphML and CSV ----------------------------------------------------------------------------------


def flat_graph(g: nx.Graph) -> nx.Graph:
    """A copy with only scalar attributes: GraphML has no lists and no nulls (Cytoscape and yEd read this)."""
    h = g.__class__()
    h.graph.update({k: v for k, v in g.graph.items() if v is not None})
    for n, d in g.nodes(data=True):
        h.add_node(n, **{k: v for k, v in d.items() if v is not None})
    for s, t, d in g.edges(data=True):
        flat = {k: v for k, v in d.items() if v is not None and k != "dates"}
        flat["dates"] = " ".join(d.get("dates", []))
        h.add_edge(s, t, **flat)
    return h


def write_graphml(g: nx.Graph, out: IO[bytes]) -> None:
    nx.write_graphml(flat_graph(g), out, encoding="utf-8", prettyprint=True)


NODE_COLUMNS = ["Id", "Label", "Type", "IRI", "Wikidata", "Mentions", "Start", "End", "Interval", "Color"]
EDGE_COLUMNS = ["Id", "Source", "Target", "Type", "Weight", "Start", "End", "Interval"]


def _interval(dates: list[str]) -> str:
    """Gephi's interval-set syntax, for the spreadsheet importer's 'Interval' column type."""
    return "<" + "; ".join(f"[{d}, {d}]" for d in dates) + ">" if dates else ""


def write_csv(g: nx.Graph, nodes_out: IO[str], edges_out: IO[str]) -> None:
    """Two tables with the column names Gephi's spreadsheet import recognises (Id, Label, Source, Target,
    Type, Weight), plus Start/End and an interval set for its timeline."""
    w = csv.writer(nodes_out)
    w.writerow(NODE_COLUMNS)
    for n, d in g.nodes(data=True):
        span = [d["start"]] if d.get("start") and d.get("start") == d.get("end") else []
        interval = _interval(span) if span else (f"<[{d['start']}, {d['end']}]>" if d.get("start") else "")
        w.writerow([n, d["label"], d["type"], d["iri"], d.get("wikidata") or "", d["mentions"],
                    d.get("start") or "", d.get("end") or "", interval, d["color"]])
    w = csv.writer(edges_out)
    w.writerow(EDGE_COLUMNS)
    kind = "Directed" if g.is_directed() else "Undirected"
    for i, (s, t, d) in enumerate(g.edges(data=True)):
        if g.graph["edge_time"] == "spells":
            interval = _interval(d["dates"])
        else:
            interval = f"<[{d['start']}, {d['end']}]>" if d.get("start") else ""
        w.writerow([i, s, t, kind, d["weight"], d.get("start") or "", d.get("end") or "", interval])


def csv_paths(prefix: str) -> tuple[Path, Path]:
    """PREFIX-nodes.csv and PREFIX-edges.csv; a trailing .csv on the prefix is dropped."""
    stem = prefix[:-4] if prefix.lower().endswith(".csv") else prefix
    return Path(f"{stem}-nodes.csv"), Path(f"{stem}-edges.csv")


# --- CMIF (TEI correspDesc) ---------------------------------------------------------------------------


def _publication_date() -> str:
    """Today, unless SOURCE_DATE_EPOCH pins it (reproducible builds ask for the same bytes twice)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=UTC).date().isoformat()
    return date.today().isoformat()


def cmif_tree(store: ox.Store, facts: Facts) -> etree._ElementTree:
    """The messages in the Correspondence Metadata Interchange Format that correspSearch harvests: one
    correspDesc per message (ref = its IRI), sender and recipients referenced by our entity IRIs."""
    T = lambda tag: f"{{{TEI_NS}}}{tag}"  # noqa: E731
    sources: dict[str, dict] = {}
    source_of: dict[str, str] = {}
    for row in select(store, SOURCE_QUERY):
        sources.setdefault(row["src"], row)
        source_of.setdefault(row["m"], row["src"])  # a stub cited from two sources: the first, by IRI
    bibl_id = {src: f"source-{i + 1}" for i, src in enumerate(sorted(sources))}

    root = etree.Element(T("TEI"), nsmap={None: TEI_NS})
    header = etree.SubElement(root, T("teiHeader"))
    file_desc = etree.SubElement(header, T("fileDesc"))
    title_stmt = etree.SubElement(file_desc, T("titleStmt"))
    etree.SubElement(title_stmt, T("title")).text = "wartime-kg: letters and telegrams of Stalin's wartime correspondence"
    etree.SubElement(title_stmt, T("editor")).text = "wartime-kg"
    pub = etree.SubElement(file_desc, T("publicationStmt"))
    etree.SubElement(etree.SubElement(pub, T("publisher")), T("ref"), target=_base(facts)).text = "wartime-kg"
    etree.SubElement(pub, T("idno"), type="url").text = _base(facts) + "cmif.xml"
    etree.SubElement(pub, T("date"), when=_publication_date())
    avail = etree.SubElement(pub, T("availability"))
    etree.SubElement(avail, T("licence"), target="https://creativecommons.org/licenses/by/4.0/").text = "CC-BY 4.0"
    source_desc = etree.SubElement(file_desc, T("sourceDesc"))
    for src in sorted(sources):
        row = sources[src]
        bibl = etree.SubElement(source_desc, T("bibl"), type="print" if not row["url"] else "online")
        bibl.set(f"{{{XML_NS}}}id", bibl_id[src])
        bibl.text = row["citation"] or row["title"]
        if row["url"]:
            bibl.text += " "
            etree.SubElement(bibl, T("ref"), target=row["url"]).text = row["url"]

    profile = etree.SubElement(header, T("profileDesc"))
    for msg in sorted(facts.messages.values(), key=lambda m: (m.date or "9999", m.iri)):
        if not msg.senders and not msg.recipients:
            continue
        cd = etree.SubElement(profile, T("correspDesc"), ref=msg.iri)
        if msg.iri in source_of:
            cd.set("source", "#" + bibl_id[source_of[msg.iri]])
        sent = etree.SubElement(cd, T("correspAction"), type="sent")
        for p in sorted(msg.senders):
            _cmif_name(sent, facts.entity(p))
        if msg.date and not msg.approximate:  # an editor's estimate is not a date of the letter
            etree.SubElement(sent, T("date"), when=msg.date)
        received = etree.SubElement(cd, T("correspAction"), type="received")
        for p in sorted(msg.recipients):
            _cmif_name(received, facts.entity(p))
    text = etree.SubElement(root, T("text"))
    etree.SubElement(etree.SubElement(text, T("body")), T("p"))
    return etree.ElementTree(root)


def _cmif_name(action: etree._Element, e: Entity) -> None:
    tag = "orgName" if e.type == "ORG" else "persName"
    etree.SubElement(action, f"{{{TEI_NS}}}{tag}", ref=e.iri).text = e.label


def _base(facts: Facts) -> str:
    """The published base, read off a message IRI so a rebased store (`kg build --base`) stays consistent."""
    for iri in sorted(facts.messages):
        if "/message/" in iri:
            return iri.split("/message/", 1)[0] + "/"
    return "https://w3id.org/wartime-kg/"


def write_cmif(store: ox.Store, facts: Facts, out: IO[bytes]) -> None:
    cmif_tree(store, facts).write(out, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# --- the picture --------------------------------------------------------------------------------------


def top_subgraph(g: nx.Graph, top: int) -> nx.Graph:
    """The `top` most mentioned entities and the edges among them (ties broken by IRI, for the same picture
    every time)."""
    chosen = sorted(g.nodes, key=lambda n: (-g.nodes[n]["mentions"], n))[: max(top, 0)]
    return g.subgraph(chosen).copy()


def backbone(h: nx.Graph, ties: int) -> nx.Graph:
    """Each entity's `ties` strongest links by association strength: co-mentions over the geometric mean of
    both entities' messages. Raw counts would tie every node to Stalin and Churchill, who are everywhere,
    and the full graph among the most mentioned entities is nearly complete; the backbone shows who goes
    with whom (Poland with the Curzon Line, Berlin with Austria)."""
    for a, b, d in h.edges(data=True):
        d["strength"] = d["weight"] / math.sqrt(max(h.nodes[a].get("messages", 1), 1) * max(h.nodes[b].get("messages", 1), 1))
    keep: set[tuple[str, str]] = set()
    for n in h.nodes:
        strongest = sorted(h.edges(n, data=True), key=lambda e: (-e[2]["strength"], -e[2]["weight"], e[1]))[:ties]
        keep.update(tuple(sorted((a, b))) for a, b, _ in strongest)
    # a new graph in sorted order: the layout's starting positions follow node order, and set order
    # changes with every process (string hashing), which would give a new picture on every run
    out = nx.Graph()
    out.add_nodes_from(sorted(h.nodes(data=True)))
    out.add_edges_from((a, b, h.edges[a, b]) for a, b in sorted(keep))
    return out


def spread(pos: dict[str, Any], boxes: dict[str, tuple[float, float, float, float]], limit: float,
           rounds: int = 400) -> dict[str, tuple[float, float]]:
    """Push apart nodes whose boxes (dot plus label, in data units: left, right, down, up from the node)
    overlap, keeping every box inside [-limit, limit]. Spring layouts pack the hubs on top of each other;
    this keeps every label legible without moving the picture's structure more than it must."""
    xy = {n: [float(pos[n][0]), float(pos[n][1])] for n in pos}
    names = sorted(xy)
    for _ in range(rounds):
        moved = False
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                (ax_, ay), (bx, by) = xy[a], xy[b]
                la, ra, da, ua = boxes[a]
                lb, rb, db, ub = boxes[b]
                ox_ = min(ax_ + ra, bx + rb) - max(ax_ - la, bx - lb)
                oy = min(ay + ua, by + ub) - max(ay - da, by - db)
                if ox_ <= 0 or oy <= 0:
                    continue
                moved = True
                if ox_ < oy:
                    step = ox_ / 2 + 1e-4
                    sign = 1.0 if ax_ >= bx else -1.0
                    xy[a][0] += sign * step
                    xy[b][0] -= sign * step
                else:
                    step = oy / 2 + 1e-4
                    sign = 1.0 if ay >= by else -1.0
                    xy[a][1] += sign * step
                    xy[b][1] -= sign * step
        for n in names:
            left, right, down, up = boxes[n]
            xy[n][0] = min(max(xy[n][0], -limit + left), limit - right)
            xy[n][1] = min(max(xy[n][1], -limit + down), limit - up)
        if not moved:
            break
    return {n: (x, y) for n, (x, y) in xy.items()}


def draw(g: nx.Graph, out: IO[bytes], fmt: str, top: int, ties: int = 4) -> nx.Graph:
    """The co-mention network of the most mentioned entities, for readers without Gephi: its backbone (see
    `backbone`), node area by mentions, colour by type, edge width by the raw count. Seeded layout, so the
    picture only changes when the data does."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    h = top_subgraph(g, top)
    if h.number_of_nodes() == 0:
        raise KGError("nothing to draw: the store has no linked mentions")
    b = backbone(h, ties)  # keeps every node: an entity with no co-mention at all still gets its dot
    pos = nx.spring_layout(b, weight="strength", seed=1941, iterations=500, k=2.2 / math.sqrt(b.number_of_nodes()))
    most_w = max((d["weight"] for _, _, d in b.edges(data=True)), default=1)
    most_m = max(d["mentions"] for _, d in b.nodes(data=True)) or 1
    sizes = {n: 80 + 2600 * b.nodes[n]["mentions"] / most_m for n in b.nodes}

    width_in, height_in, limit = 14.0, 10.0, 1.0
    # data units per point, for axes of about the figure's size less the title (fixed limits below)
    per_x, per_y = 2 * limit / (width_in * 72 * 0.95), 2 * limit / (height_in * 72 * 0.84)
    boxes = {}
    for n in b.nodes:
        r = math.sqrt(sizes[n]) / 2 + 3
        half = max(r, 2.9 * len(b.nodes[n]["label"]) + 4)
        boxes[n] = (half * per_x, half * per_x, (r + 16) * per_y, r * per_y)
    # fill the canvas on both axes before spreading: the layout's aspect is arbitrary, the canvas is wide
    sx = max(abs(p[0]) for p in pos.values()) or 1.0
    sy = max(abs(p[1]) for p in pos.values()) or 1.0
    pos = spread({n: (x / sx * 0.86, y / sy * 0.86) for n, (x, y) in pos.items()}, boxes, limit)

    plt.rcParams["svg.hashsalt"] = "wartime-kg"
    fig, ax = plt.subplots(figsize=(width_in, height_in), dpi=110)
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-limit, limit)
    edges = sorted(b.edges(data=True), key=lambda e: (e[2]["weight"], e[0], e[1]))  # heavy edges on top
    nx.draw_networkx_edges(b, pos, ax=ax, edgelist=[(x, y) for x, y, _ in edges],
                           width=[0.6 + 7.0 * d["weight"] / most_w for _, _, d in edges],
                           alpha=0.45, edge_color="#8c8c8c")
    nodes = sorted(b.nodes)
    nx.draw_networkx_nodes(b, pos, ax=ax, nodelist=nodes, node_size=[sizes[n] for n in nodes],
                           node_color=[b.nodes[n]["color"] for n in nodes], edgecolors="white", linewidths=1.2)
    for n in nodes:  # below the dot, clear of it: radius in points is sqrt(area) / 2
        ax.annotate(b.nodes[n]["label"], pos[n], xytext=(0, -(math.sqrt(sizes[n]) / 2 + 2)), textcoords="offset points",
                    fontsize=9.5, ha="center", va="top",
                    bbox={"boxstyle": "round,pad=0.12", "fc": "white", "ec": "none", "alpha": 0.75})
    types = sorted({b.nodes[n]["type"] for n in nodes})
    # below the axes, in a margin of its own, so it never covers a node or a label
    fig.legend(handles=[Line2D([], [], marker="o", ls="", ms=11, color=TYPE_COLORS.get(t, OTHER_COLOR), label=t.title())
                        for t in types], loc="lower center", ncol=len(types), frameon=False, fontsize=10.5)
    span = f"{(g.graph.get('start') or '?')[:4]}-{(g.graph.get('end') or '?')[:4]}"
    ax.set_title(f"Who and what is mentioned together in Stalin's wartime correspondence, {span}\n"
                 f"the {b.number_of_nodes()} most mentioned entities, each with its {ties} strongest ties; "
                 "node size = mentions, edge width = messages mentioning both", fontsize=11)
    ax.set_axis_off()
    fig.subplots_adjust(left=0.025, right=0.975, bottom=0.06, top=0.9)
    fig.savefig(out, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    plt.close(fig)
    return b


# --- the command --------------------------------------------------------------------------------------


def _open_binary(path: str | None) -> tuple[IO[bytes], bool]:
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return open(path, "wb"), True
    return sys.stdout.buffer, False


def export(store: ox.Store, args: Any) -> int:
    """`kg export gexf|graphml|csv|cmif|png|svg`: gather once, build the network, write one file."""
    what = args.what
    output: str | None = getattr(args, "output", None)
    network = getattr(args, "network", None) or "correspondence"
    facts = gather(store)
    if what == "cmif":
        out, close = _open_binary(output)
        try:
            write_cmif(store, facts, out)
        finally:
            if close:
                out.close()
        if output:
            print(f"wrote {sum(1 for m in facts.messages.values() if m.senders or m.recipients)} letters to {output}",
                  file=sys.stderr)
        return 0
    if what in ("png", "svg"):  # the picture is of the co-mention network, whatever --network says
        g = build_network(facts, "co-mention")
        out, close = _open_binary(output)
        try:
            h = draw(g, out, what, getattr(args, "top", 40))
        finally:
            if close:
                out.close()
        if output:
            print(f"drew {h.number_of_nodes()} entities, {h.number_of_edges()} edges to {output}", file=sys.stderr)
        return 0
    g = build_network(facts, network)
    if what == "csv":
        if not output:
            raise KGError("kg export csv writes two files: give a prefix with -o PREFIX (PREFIX-nodes.csv, PREFIX-edges.csv)")
        nodes_path, edges_path = csv_paths(output)
        nodes_path.parent.mkdir(parents=True, exist_ok=True)
        with open(nodes_path, "w", encoding="utf-8", newline="") as nf, open(edges_path, "w", encoding="utf-8", newline="") as ef:
            write_csv(g, nf, ef)
        print(f"wrote {g.number_of_nodes()} nodes to {nodes_path}, {g.number_of_edges()} edges to {edges_path}",
              file=sys.stderr)
        return 0
    writers = {"gexf": write_gexf, "graphml": write_graphml}
    if what not in writers:
        raise KGError(f"kg export: unknown network format {what!r}")
    if output:
        with open(output, "wb") as fh:
            writers[what](g, fh)
        print(f"wrote the {network} network ({g.number_of_nodes()} nodes, {g.number_of_edges()} edges) to {output}",
              file=sys.stderr)
    else:
        buf = io.BytesIO()
        writers[what](g, buf)
        sys.stdout.buffer.write(buf.getvalue())
    return 0
