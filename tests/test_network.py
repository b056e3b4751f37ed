"""Network exports (issue 5): every file is checked against the store itself, never against remembered counts.

Each count below comes from a SPARQL query written here, independently of kg.network, so a bug in the
network code cannot make its own yardstick agree with it. The authority files change while the project
grows; these tests must not.
"""

from __future__ import annotations

import csv
import os
import re
import struct
import subprocess
import sys
from argparse import Namespace
from pathlib import Path

import networkx as nx
import pytest
from lxml import etree

from kg import network
from kg.namespaces import sparql_prologue

GEXF_RNG = Path("/work/shared/schemas/gexf/1.3/gexf.rng")
TEI = "http://www.tei-c.org/ns/1.0"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"

# --- the yardsticks ----------------------------------------------------------------------------------

COUNTS: dict[str, tuple[str, str]] = {
    "correspondence": (
        """SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE {
             ?m a schema:Message . { ?m schema:sender ?p } UNION { ?m schema:recipient ?p } }""",
        """SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?r WHERE {
             ?m a schema:Message ; schema:sender ?s ; schema:recipient ?r } }""",
    ),
    "co-mention": (
        """SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE { ?a a oa:Annotation ; oa:hasBody ?e ; wkg:inMessage ?m }""",
        """SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?e1 ?e2 WHERE {
             ?a1 a oa:Annotation ; oa:hasBody ?e1 ; wkg:inMessage ?m .
             ?a2 a oa:Annotation ; oa:hasBody ?e2 ; wkg:inMessage ?m .
             FILTER(STR(?e1) < STR(?e2)) } }""",
    ),
    "bipartite": (
        """SELECT ((?messages + ?entities) AS ?n) WHERE {
             { SELECT (COUNT(DISTINCT ?m) AS ?messages) WHERE { ?a a oa:Annotation ; oa:hasBody ?e ; wkg:inMessage ?m } }
             { SELECT (COUNT(DISTINCT ?e) AS ?entities) WHERE { ?a a oa:Annotation ; oa:hasBody ?e ; wkg:inMessage ?m } } }""",
        """SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?m ?e WHERE {
             ?a a oa:Annotation ; oa:hasBody ?e ; wkg:inMessage ?m } }""",
    ),
}

# a message's date: dateCreated, else dateSent, else the estimate of an undated letter
PAIR_SPAN = """
SELECT (MIN(?d) AS ?first) (MAX(?d) AS ?last) WHERE {
  ?s owl:sameAs wd:%s . ?r owl:sameAs wd:%s .
  ?m a schema:Message ; schema:sender ?s ; schema:recipient ?r .
  OPTIONAL { ?m schema:dateCreated ?dc } OPTIONAL { ?m schema:dateSent ?ds } OPTIONAL { ?m wkg:approximateDate ?ad }
  BIND(STR(COALESCE(?dc, ?ds, ?ad)) AS ?d)
  FILTER(BOUND(?d))
}
"""

CO_MENTION_SPAN = """
SELECT (MIN(?d) AS ?first) (MAX(?d) AS ?last) WHERE {
  ?x owl:sameAs wd:%s . ?y owl:sameAs wd:%s .
  ?a1 a oa:Annotation ; oa:hasBody ?x ; wkg:inMessage ?m .
  ?a2 a oa:Annotation ; oa:hasBody ?y ; wkg:inMessage ?m .
  OPTIONAL { ?m schema:dateCreated ?dc } OPTIONAL { ?m schema:dateSent ?ds } OPTIONAL { ?m wkg:approximateDate ?ad }
  BIND(STR(COALESCE(?dc, ?ds, ?ad)) AS ?d)
  FILTER(BOUND(?d))
}
"""

PAIR_COUNT = """
SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE {
  ?s owl:sameAs wd:%s . ?r owl:sameAs wd:%s . ?m a schema:Message ; schema:sender ?s ; schema:recipient ?r .
}
"""

CO_MENTION_COUNT = """
SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE {
  ?x owl:sameAs wd:%s . ?y owl:sameAs wd:%s .
  ?a1 a oa:Annotation ; oa:hasBody ?x ; wkg:inMessage ?m . ?a2 a oa:Annotation ; oa:hasBody ?y ; wkg:inMessage ?m .
}
"""

ALL_DATES = """
SELECT (MIN(?d) AS ?first) (MAX(?d) AS ?last) WHERE {
  ?m a schema:Message .
  OPTIONAL { ?m schema:dateCreated ?dc } OPTIONAL { ?m schema:dateSent ?ds } OPTIONAL { ?m wkg:approximateDate ?ad }
  BIND(STR(COALESCE(?dc, ?ds, ?ad)) AS ?d)
  FILTER(BOUND(?d))
}
"""

STALIN, CHURCHILL = "Q855", "Q8016"


def scalar(store, query: str, name: str = "n") -> str:
    res = store.query(sparql_prologue() + query, use_default_graph_as_union=True)
    rows = list(res)
    assert len(rows) == 1, query
    term = rows[0][name]
    assert term is not None, f"{name} unbound in {query}"
    return term.value


def iri_of(store, wikidata: str) -> str:
    res = store.query(sparql_prologue() + f"SELECT DISTINCT ?e WHERE {{ ?e owl:sameAs wd:{wikidata} }}",
                      use_default_graph_as_union=True)
    found = sorted(row["e"].value for row in res)
    assert len(found) == 1, f"wd:{wikidata} is not exactly one entity: {found}"
    return found[0]


# --- exports, once per session -----------------------------------------------------------------------


def run_export(store, what: str, output: Path, net: str = "correspondence", top: int = 40) -> Path:
    args = Namespace(what=what, output=str(output), network=net, top=top)
    assert network.export(store, args) == 0
    return output


@pytest.fixture(scope="session")
def exported(store, tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("network")
    files: dict[str, Path] = {}
    for net in network.NETWORKS:
        files[f"gexf:{net}"] = run_export(store, "gexf", d / f"{net}.gexf", net)
        files[f"graphml:{net}"] = run_export(store, "graphml", d / f"{net}.graphml", net)
        run_export(store, "csv", d / net, net)
        files[f"csv-nodes:{net}"] = d / f"{net}-nodes.csv"
        files[f"csv-edges:{net}"] = d / f"{net}-edges.csv"
    files["cmif"] = run_export(store, "cmif", d / "cmif.xml")
    return files


@pytest.fixture(scope="session")
def relaxng() -> etree.RelaxNG:
    if not GEXF_RNG.exists():
        pytest.skip(f"{GEXF_RNG} is missing")
    return etree.RelaxNG(etree.parse(str(GEXF_RNG)))


# --- GEXF --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("net", network.NETWORKS)
def test_gexf_validates_against_the_1_3_schema(exported, relaxng, net):
    doc = etree.parse(str(exported[f"gexf:{net}"]))
    assert relaxng.validate(doc), relaxng.error_log
    graph = doc.getroot().find(f"{{{network.GEXF_NS}}}graph")
    assert graph.get("mode") == "dynamic" and graph.get("timeformat") == "date"


@pytest.mark.parametrize("net", network.NETWORKS)
def test_gexf_reads_back_with_the_store_counts(store, exported, net):
    g = nx.read_gexf(exported[f"gexf:{net}"], version="1.3")
    nodes_q, edges_q = COUNTS[net]
    assert g.number_of_nodes() == int(scalar(store, nodes_q))
    assert g.number_of_edges() == int(scalar(store, edges_q))
    assert g.is_directed() == (net == "correspondence")
    assert not g.is_multigraph()  # one edge per pair


@pytest.mark.parametrize("net", network.NETWORKS)
def test_graphml_reads_back_with_the_store_counts(store, exported, net):
    g = nx.read_graphml(exported[f"graphml:{net}"])
    nodes_q, edges_q = COUNTS[net]
    assert g.number_of_nodes() == int(scalar(store, nodes_q))
    assert g.number_of_edges() == int(scalar(store, edges_q))


def test_gexf_node_attributes_and_colours(store, exported):
    g = nx.read_gexf(exported["gexf:co-mention"], version="1.3")
    stalin = iri_of(store, STALIN)
    d = g.nodes[stalin]
    assert d["iri"] == stalin and d["type"] == "PERSON" and d["wikidata"] == STALIN
    assert d["label"] == scalar(store, f"SELECT (SAMPLE(STR(?l)) AS ?n) WHERE {{ <{stalin}> skos:prefLabel ?l }}")
    mentions = int(scalar(store, f"SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE {{ ?a a oa:Annotation ; oa:hasBody <{stalin}> }}"))
    assert d["mentions"] == mentions
    for _, data in g.nodes(data=True):  # colour by type, the same table the picture uses
        hex_colour = network.TYPE_COLORS.get(data["type"], network.OTHER_COLOR)
        assert tuple(data["viz"]["color"][c] for c in "rgb") == network._rgb(hex_colour)
    assert len({data["type"] for _, data in g.nodes(data=True)}) > 1


def test_correspondence_spells_are_the_message_dates(store, exported):
    """Stalin -> Churchill: one spell per day a message went, from the first to the last."""
    g = nx.read_gexf(exported["gexf:correspondence"], version="1.3")
    expected = ask_row(store, PAIR_SPAN % (STALIN, CHURCHILL))
    edge = g.edges[iri_of(store, STALIN), iri_of(store, CHURCHILL)]
    spells = edge["spells"]
    assert min(s for s, _ in spells) == expected["first"]
    assert max(e for _, e in spells) == expected["last"]
    assert all(s == e for s, e in spells)  # instants: a message is sent on a day
    assert edge["weight"] == int(scalar(store, PAIR_COUNT % (STALIN, CHURCHILL)))
    # and the other direction is its own edge
    back = g.edges[iri_of(store, CHURCHILL), iri_of(store, STALIN)]
    assert back["weight"] == int(scalar(store, PAIR_COUNT % (CHURCHILL, STALIN)))


def test_co_mention_span_is_first_and_last_message(store, exported):
    g = nx.read_gexf(exported["gexf:co-mention"], version="1.3")
    expected = ask_row(store, CO_MENTION_SPAN % (STALIN, CHURCHILL))
    edge = g.edges[iri_of(store, STALIN), iri_of(store, CHURCHILL)]
    assert (edge["start"], edge["end"]) == (expected["first"], expected["last"])
    assert edge["weight"] == int(scalar(store, CO_MENTION_COUNT % (STALIN, CHURCHILL)))


def test_timeline_opens_on_the_corpus_span(store, exported):
    expected = ask_row(store, ALL_DATES)
    g = nx.read_gexf(exported["gexf:correspondence"], version="1.3")
    assert (g.graph["start"], g.graph["end"]) == (expected["first"], expected["last"])
    assert expected["first"][:4] == "1941"


def ask_row(store, query: str) -> dict[str, str]:
    rows = list(store.query(sparql_prologue() + query, use_default_graph_as_union=True))
    assert len(rows) == 1
    out = {}
    for name in ("first", "last"):
        term = rows[0][name]
        assert term is not None, f"{name} unbound in {query}"
        out[name] = term.value
    return out


def test_gexf_is_deterministic(store, tmp_path):
    a = run_export(store, "gexf", tmp_path / "a.gexf", "co-mention")
    b = run_export(store, "gexf", tmp_path / "b.gexf", "co-mention")
    assert a.read_bytes() == b.read_bytes()


# --- CSV ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("net", network.NETWORKS)
def test_csv_has_gephi_columns(store, exported, net):
    with open(exported[f"csv-nodes:{net}"], encoding="utf-8", newline="") as fh:
        nodes = list(csv.DictReader(fh))
    with open(exported[f"csv-edges:{net}"], encoding="utf-8", newline="") as fh:
        edges = list(csv.DictReader(fh))
    assert {"Id", "Label", "Start", "End"} <= set(nodes[0])
    assert {"Source", "Target", "Type", "Weight", "Start", "End"} <= set(edges[0])
    nodes_q, edges_q = COUNTS[net]
    assert len(nodes) == int(scalar(store, nodes_q)) and len(edges) == int(scalar(store, edges_q))
    ids = {n["Id"] for n in nodes}
    assert all(e["Source"] in ids and e["Target"] in ids for e in edges)
    assert {e["Type"] for e in edges} == {"Directed" if net == "correspondence" else "Undirected"}
    assert all(float(e["Weight"]) >= 1 for e in edges)
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", e["Start"]) for e in edges if e["Start"])


# --- CMIF --------------------------------------------------------------------------------------------


def test_cmif_is_tei_with_sent_and_received(store, exported):
    root = etree.parse(str(exported["cmif"])).getroot()
    t = lambda tag: f"{{{TEI}}}{tag}"  # noqa: E731
    assert root.tag == t("TEI")
    file_desc = root.find(f"{t('teiHeader')}/{t('fileDesc')}")
    for part in ("titleStmt", "publicationStmt", "sourceDesc"):
        assert file_desc.find(t(part)) is not None, part
    bibl_ids = {b.get(XML_ID) for b in file_desc.iter(t("bibl"))}
    assert bibl_ids and None not in bibl_ids
    descs = root.findall(f"{t('teiHeader')}/{t('profileDesc')}/{t('correspDesc')}")
    letters = int(scalar(store, """SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE {
        ?m a schema:Message . { ?m schema:sender ?p } UNION { ?m schema:recipient ?p } }"""))
    assert len(descs) == letters
    messages = {r["m"].value for r in store.query(sparql_prologue() + "SELECT DISTINCT ?m WHERE { ?m a schema:Message }",
                                                  use_default_graph_as_union=True)}
    entities = {r["e"].value for r in store.query(sparql_prologue() + "SELECT DISTINCT ?e WHERE { ?e skos:prefLabel ?l }",
                                                  use_default_graph_as_union=True)}
    dated = 0
    for cd in descs:
        assert cd.get("ref") in messages
        assert cd.get("source", "#")[1:] in bibl_ids
        actions = {a.get("type"): a for a in cd.findall(t("correspAction"))}
        assert set(actions) == {"sent", "received"}
        names = [n for a in actions.values() for n in a if n.tag in (t("persName"), t("orgName"))]
        assert names and all(n.get("ref") in entities and (n.text or "").strip() for n in names)
        when = actions["sent"].find(t("date"))
        if when is not None:
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", when.get("when"))
            dated += 1
    assert dated > len(descs) / 2


def test_cmif_stalin_to_churchill_letters(store, exported):
    root = etree.parse(str(exported["cmif"])).getroot()
    stalin, churchill = iri_of(store, STALIN), iri_of(store, CHURCHILL)
    found = root.xpath(
        "//t:correspDesc[t:correspAction[@type='sent']/t:persName/@ref=$s][t:correspAction[@type='received']/t:persName/@ref=$r]",
        namespaces={"t": TEI}, s=stalin, r=churchill)
    assert len(found) == int(scalar(store, PAIR_COUNT % (STALIN, CHURCHILL)))


# --- the picture -------------------------------------------------------------------------------------


def test_png_is_a_readable_picture(store, tmp_path, output_dir):
    out = run_export(store, "png", tmp_path / "network.png", "co-mention", top=30)
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width >= 1000 and height >= 700
    assert 30_000 < len(data) < 5_000_000
    (output_dir / "network.png").write_bytes(data)


def test_svg_is_well_formed(store, tmp_path):
    out = run_export(store, "svg", tmp_path / "network.svg", top=20)
    root = etree.parse(str(out)).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"


def test_top_subgraph_takes_the_most_mentioned(store):
    g = network.build_network(network.gather(store), "co-mention")
    h = network.top_subgraph(g, 10)
    floor = min(h.nodes[n]["mentions"] for n in h)
    assert h.number_of_nodes() == 10
    assert all(g.nodes[n]["mentions"] <= floor for n in g if n not in h)


def test_spread_removes_overlaps():
    pos = {"a": (0.0, 0.0), "b": (0.01, 0.0), "c": (0.0, 0.01)}
    boxes = {n: (0.1, 0.1, 0.1, 0.1) for n in pos}
    out = network.spread(pos, boxes, limit=1.0)
    for a in out:
        for b in out:
            if a < b:
                assert abs(out[a][0] - out[b][0]) >= 0.2 - 1e-6 or abs(out[a][1] - out[b][1]) >= 0.2 - 1e-6


# --- through the command line ------------------------------------------------------------------------


def test_cli_export_gexf(built_store, relaxng, tmp_path, store):
    kg = Path(sys.executable).parent / "kg"
    out = tmp_path / "cli.gexf"
    proc = subprocess.run([str(kg), "export", "gexf", "--store", str(built_store), "-o", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert relaxng.validate(etree.parse(str(out))), relaxng.error_log
    g = nx.read_gexf(out, version="1.3")
    assert g.number_of_nodes() == int(scalar(store, COUNTS["correspondence"][0]))


def test_picture_is_the_same_in_every_process(built_store, tmp_path):
    """The README picture must change only with the data: string hashing differs per process, so two
    processes with different hash seeds must still draw the same bytes."""
    kg = Path(sys.executable).parent / "kg"
    outs = []
    for seed in ("1", "2"):
        out = tmp_path / f"seed{seed}.png"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run([str(kg), "export", "png", "--store", str(built_store), "--top", "25", "-o", str(out)],
                              capture_output=True, text=True, timeout=120, env=env)
        assert proc.returncode == 0, proc.stderr
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


def test_csv_needs_a_prefix(store):
    from kg.errors import KGError

    with pytest.raises(KGError):
        network.export(store, Namespace(what="csv", output=None, network="correspondence", top=40))
