"""`kg serve` over real HTTP: the SPARQL protocol (SPARQLWrapper, rdflib's SPARQLStore, plain requests), Cool URIs
by content negotiation, VoID and dumps, refusals (updates, traversal, runaway queries), escaping of document text,
and a clean stop without orphaned worker processes.

Every test talks to a `kg serve` subprocess on a free loopback port, started on the session build of seeds/.
"""

from __future__ import annotations

import concurrent.futures
import csv
import gzip
import http.client
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.error import HTTPError

import pyoxigraph as ox
import pytest
import requests
from rdflib import Dataset, Graph, Literal, Namespace, URIRef
from rdflib.namespace import OWL, RDF, SKOS
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, POST, TSV, TURTLE, XML, SPARQLWrapper

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "queries"
ENT = Namespace("https://w3id.org/wartime-kg/id/")
MSG = Namespace("https://w3id.org/wartime-kg/message/")
OA = Namespace("http://www.w3.org/ns/oa#")
VOID = Namespace("http://rdfs.org/ns/void#")
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


# ------------------------------------------------------------------------------------------------
# Starting and stopping real servers (also used by test_browser.py)
# ------------------------------------------------------------------------------------------------

@dataclass
class Served:
    proc: subprocess.Popen
    url: str
    log: Path

    def children(self) -> set[int]:
        return children_of(self.proc.pid)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children_of(pid: int) -> set[int]:
    out: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out |= {int(x) for x in (task / "children").read_text().split()}
        except OSError:
            pass
    return out


def alive(pid: int) -> bool:
    """A process that still exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def kg_command() -> list[str]:
    script = Path(sys.executable).parent / "kg"
    return [str(script)] if script.exists() else [sys.executable, "-m", "kg.cli"]


def start_server(store: Path, workdir: Path, *args: str, env: dict[str, str] | None = None) -> Served:
    """`kg serve` on a free loopback port; returns once the home page answers."""
    port = free_port()
    log = workdir / f"kg-serve-{port}.log"
    cmd = [*kg_command(), "serve", "--store", str(store), "--host", "127.0.0.1", "--port", str(port), *args]
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}, cwd=workdir)
    served = Served(proc, f"http://127.0.0.1:{port}/", log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"kg serve exited with {proc.returncode}:\n{served.output()}")
        try:
            if requests.get(served.url, timeout=5).status_code == 200:
                return served
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"kg serve did not answer within 60 s:\n{served.output()}")


def stop_server(served: Served, sig: int = signal.SIGTERM) -> None:
    """Stop with a signal; the exit must be clean and no worker may outlive the server."""
    children = served.children()
    served.proc.send_signal(sig)
    try:
        code = served.proc.wait(30)
    except subprocess.TimeoutExpired:
        served.proc.kill()
        raise AssertionError(f"kg serve did not stop on signal {sig}:\n{served.output()}") from None
    assert code == 0, f"kg serve exited with {code}:\n{served.output()}"
    deadline = time.monotonic() + 10
    while any(alive(c) for c in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [c for c in children if alive(c)], "worker processes outlived the server"


CRAFTED_TEXT = ("PERSONAL AND SECRET FROM PREMIER J. V. STALIN TO THE PRIME MINISTER, Mr W. CHURCHILL\n\n"
                "June 10, 1942\n\n"
                "Mr <script>alert(1)</script> Molotov met Churchill in Moscow. Mr Molotov will report to me on "
                "<img src=x onerror=alert(2)> London.\n")
CRAFTED_MANIFEST = """
[[source]]
file = "crafted.txt"
title = "A crafted <script>alert(3)</script> document"
kind = "document"
date = "1942-06-10"
citation = "Crafted <b>citation</b> for the escaping test"
sender = "Joseph Stalin"
recipients = ["Winston Churchill"]
"""


def build_crafted(base: Path) -> tuple[Path, Path]:
    """A one-document corpus whose text carries markup, built by the real pipeline. Returns (store, seeds)."""
    from kg.builder import build

    seeds = base / "seeds"
    seeds.mkdir(parents=True)
    (seeds / "manifest.toml").write_text(CRAFTED_MANIFEST, encoding="utf-8")
    (seeds / "crafted.txt").write_text(CRAFTED_TEXT, encoding="utf-8")
    store = base / "store"
    build(None, store, seeds_dir=seeds, report=lambda m: None)
    return store, seeds


# ------------------------------------------------------------------------------------------------
# Fixtures
# ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(built_store, tmp_path_factory):
    served = start_server(built_store, tmp_path_factory.mktemp("serve"))
    yield served
    stop_server(served)


@pytest.fixture(scope="module")
def endpoint(server) -> str:
    return server.url + "query"


def canned(name: str) -> str:
    return (QUERIES / f"{name}.rq").read_text(encoding="utf-8")


def get(server: Served, path: str, accept: str | None = None, **kw) -> requests.Response:
    headers = {"Accept": accept} if accept else {}
    return requests.get(server.url + path.lstrip("/"), headers=headers, timeout=60, **kw)


# ------------------------------------------------------------------------------------------------
# SPARQL protocol
# ------------------------------------------------------------------------------------------------

def test_sparqlwrapper_select_get_and_post(endpoint):
    sw = SPARQLWrapper(endpoint)
    sw.setQuery(canned("office-holder-on-date"))
    sw.setReturnFormat(JSON)
    rows = sw.query().convert()["results"]["bindings"]
    assert [r["personLabel"]["value"] for r in rows] == ["William H. Standley"]
    sw.setMethod(POST)
    rows = sw.query().convert()["results"]["bindings"]
    assert rows[0]["person"]["value"] == str(ENT["william-h-standley"])


def test_sparqlwrapper_result_formats(endpoint):
    sw = SPARQLWrapper(endpoint)
    sw.setQuery("PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
                "SELECT ?l WHERE { <https://w3id.org/wartime-kg/id/winston-churchill> skos:prefLabel ?l }")
    sw.setReturnFormat(XML)
    xml = sw.query().convert()
    assert [n.firstChild.data for n in xml.getElementsByTagName("literal")] == ["Winston Churchill"]
    sw.setReturnFormat(CSV)
    assert sw.query().convert().decode().split() == ["l", "Winston", "Churchill"]
    sw.setReturnFormat(TSV)
    assert '"Winston Churchill"@en' in sw.query().convert().decode()
    sw.setQuery("ASK { <https://w3id.org/wartime-kg/id/winston-churchill> ?p ?o }")
    sw.setReturnFormat(JSON)
    assert sw.query().convert()["boolean"] is True
    sw.setQuery("CONSTRUCT WHERE { <https://w3id.org/wartime-kg/id/poland> ?p ?o }")
    sw.setReturnFormat(TURTLE)
    g = Graph().parse(data=sw.query().convert(), format="turtle")
    assert (ENT.poland, SKOS.prefLabel, Literal("Poland", lang="en")) in g


def test_protocol_post_forms_and_negotiation(endpoint):
    q = canned("office-holder-on-date")
    direct = requests.post(endpoint, data=q.encode(), headers={"Content-Type": "application/sparql-query", "Accept": "text/csv"}, timeout=30)
    assert direct.status_code == 200 and direct.headers["Content-Type"].startswith("text/csv")
    assert "William H. Standley" in direct.text
    form = requests.post(endpoint, data={"query": q}, headers={"Accept": "text/tab-separated-values"}, timeout=30)
    assert form.headers["Content-Type"].startswith("text/tab-separated-values") and "Standley" in form.text
    fmt = requests.get(endpoint, params={"query": q, "format": "xml"}, timeout=30)
    assert fmt.headers["Content-Type"].startswith("application/sparql-results+xml") and "Standley" in fmt.text
    construct = "CONSTRUCT WHERE { <https://w3id.org/wartime-kg/id/winston-churchill> ?p ?o }"
    for accept, rdf in [("application/n-triples", "nt"), ("application/ld+json", "json-ld"), ("text/turtle", "turtle"),
                        ("application/rdf+xml", "xml")]:
        r = requests.post(endpoint, data={"query": construct}, headers={"Accept": accept}, timeout=30)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith(accept), accept
        g = Graph().parse(data=r.text, format=rdf)
        assert (ENT["winston-churchill"], OWL.sameAs, URIRef("http://www.wikidata.org/entity/Q8016")) in g, accept
    refused = requests.get(endpoint, params={"query": q}, headers={"Accept": "image/png"}, timeout=30)
    assert refused.status_code == 406


def test_rdflib_sparqlstore(endpoint, store):
    g = Graph(store=SPARQLStore(endpoint))
    n = list(g.query("SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE { ?m a <https://schema.org/Message> }"))[0][0]
    local = list(store.query("SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE { ?m a <https://schema.org/Message> }",
                             use_default_graph_as_union=True))[0]["n"]
    assert int(n) == int(local.value) > 300
    labels = {o for _, _, o in g.triples((ENT.poland, SKOS.prefLabel, None))}
    assert Literal("Poland", lang="en") in labels
    assert g.query("ASK { ?m <https://w3id.org/wartime-kg/ontology#deliveredThrough> "
                   "<https://w3id.org/wartime-kg/id/archibald-clark-kerr> }").askAnswer is True


def test_updates_are_refused(server, endpoint):
    insert = "INSERT DATA { <urn:x:a> <urn:x:b> <urn:x:c> }"
    attempts = [
        requests.post(endpoint, data={"update": insert}, timeout=30),
        requests.post(server.url + "update", data={"update": insert}, timeout=30),
        requests.post(endpoint, data=insert.encode(), headers={"Content-Type": "application/sparql-update"}, timeout=30),
        requests.post(endpoint, data={"query": "PREFIX x: <urn:x:>\n# sneaky\n" + insert}, timeout=30),
        requests.get(endpoint, params={"query": "DELETE WHERE { ?s ?p ?o }"}, timeout=30),
        requests.put(server.url + "id/winston-churchill", data=b"<a:a> <a:b> <a:c> .", timeout=30),
        requests.delete(server.url + "id/winston-churchill", timeout=30),
    ]
    for r in attempts:
        assert r.status_code == 403, (r.request.method, r.request.url, r.text)
        assert "read-only" in r.text
    sw = SPARQLWrapper(endpoint)
    sw.setMethod(POST)
    sw.setQuery(insert)
    with pytest.raises(HTTPError) as err:
        sw.query()
    assert err.value.code == 403
    ask = requests.get(endpoint, params={"query": "ASK { <urn:x:a> ?p ?o }"}, headers={"Accept": "application/json"}, timeout=30)
    assert ask.json()["boolean"] is False


def test_malformed_sparql_is_400_with_the_parser_message(endpoint):
    r = requests.get(endpoint, params={"query": "SELECT ?x WHERE { ?x ?y }"}, timeout=30)
    assert r.status_code == 400
    assert "does not parse" in r.text and "error at 1:" in r.text
    r = requests.post(endpoint, data={"query": "SELEKT * WHERE { ?s ?p ?o }"}, timeout=30)
    assert r.status_code == 400 and "error at" in r.text
    assert requests.get(endpoint, timeout=30).status_code == 400  # no query at all


def test_cors(server, endpoint):
    r = requests.get(endpoint, params={"query": "ASK { ?s ?p ?o }"}, headers={"Origin": "https://example.org"}, timeout=30)
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    pre = requests.options(endpoint, headers={"Origin": "https://example.org", "Access-Control-Request-Method": "POST",
                                              "Access-Control-Request-Headers": "content-type"}, timeout=30)
    assert pre.status_code == 204
    assert "POST" in pre.headers["Access-Control-Allow-Methods"]
    assert "content-type" in pre.headers["Access-Control-Allow-Headers"].lower()
    assert get(server, "id/winston-churchill", "text/turtle").headers["Access-Control-Allow-Origin"] == "*"


# ------------------------------------------------------------------------------------------------
# Cool URIs
# ------------------------------------------------------------------------------------------------

def test_entity_iri_as_turtle(server):
    r = get(server, "id/winston-churchill", "text/turtle")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/turtle")
    assert "Accept" in r.headers["Vary"]
    g = Graph().parse(data=r.text, format="turtle")
    churchill = ENT["winston-churchill"]
    assert (churchill, SKOS.prefLabel, Literal("Winston Churchill", lang="en")) in g
    assert (churchill, RDF.type, URIRef("https://schema.org/Person")) in g
    assert (churchill, OWL.sameAs, URIRef("http://www.wikidata.org/entity/Q8016")) in g
    mentions = set(g.subjects(OA.hasBody, churchill))
    assert len(mentions) > 100
    a = next(iter(mentions))
    target = g.value(a, OA.hasTarget)
    assert target is not None and any(g.value(s, OA.exact) for s in g.objects(target, OA.hasSelector))
    assert (MSG["1942-03-29-stalin-to-churchill"], URIRef("https://schema.org/recipient"), churchill) in g


def test_turtle_parses_with_rdflib_whatever_the_local_names(server):
    """Some DBpedia IRIs end in "." (Edward_Stettinius_Jr.): the Turtle of such an entity must still parse with rdflib."""
    found = requests.get(server.url + "query", headers={"Accept": "application/json"}, timeout=30, params={"query": """
        SELECT ?e ?x WHERE { ?e <http://www.w3.org/2002/07/owl#sameAs> ?x
          FILTER(STRENDS(STR(?x), ".") && STRSTARTS(STR(?e), "https://w3id.org/wartime-kg/id/")) } ORDER BY ?e LIMIT 1"""}).json()
    rows = found["results"]["bindings"] or [{"e": {"value": str(ENT["winston-churchill"])},
                                             "x": {"value": "http://dbpedia.org/resource/Winston_Churchill"}}]
    entity, same = rows[0]["e"]["value"], rows[0]["x"]["value"]
    r = get(server, entity.split("wartime-kg/", 1)[1], "text/turtle")
    assert r.status_code == 200
    assert (URIRef(entity), OWL.sameAs, URIRef(same)) in Graph().parse(data=r.text, format="turtle")


def test_entity_iri_as_json_ld_and_n_triples(server):
    kerr = ENT["archibald-clark-kerr"]
    r = get(server, "id/archibald-clark-kerr", "application/ld+json")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/ld+json")
    json.loads(r.text)
    jg = Graph().parse(data=r.text, format="json-ld")
    assert (kerr, SKOS.prefLabel, Literal("Archibald Clark Kerr", lang="en")) in jg
    nt = get(server, "id/archibald-clark-kerr", "application/n-triples")
    ng = Graph().parse(data=nt.text, format="nt")
    tg = Graph().parse(data=get(server, "id/archibald-clark-kerr.ttl").text, format="turtle")
    fg = Graph().parse(data=get(server, "id/archibald-clark-kerr", params={"format": "jsonld"}).text, format="json-ld")
    assert len(jg) == len(ng) == len(tg) == len(fg) > 50
    assert set(jg.subjects(OA.hasBody, kerr)) == set(ng.subjects(OA.hasBody, kerr))


def test_other_iris_dereference(server):
    for path, subject in [("message/1942-03-29-stalin-to-churchill", MSG["1942-03-29-stalin-to-churchill"]),
                          ("source/001_3885a6e84abb0fe1", URIRef("https://w3id.org/wartime-kg/source/001_3885a6e84abb0fe1")),
                          ("id/office/us-ambassador-to-ussr", ENT["office/us-ambassador-to-ussr"]),
                          ("id/tenure/us-ambassador-to-ussr-william-h-standley", ENT["tenure/us-ambassador-to-ussr-william-h-standley"])]:
        r = get(server, path, "text/turtle")
        assert r.status_code == 200, path
        assert any(True for _ in Graph().parse(data=r.text, format="turtle").predicate_objects(subject)), path
        assert get(server, path, BROWSER_ACCEPT).headers["Content-Type"].startswith("text/html"), path


def test_vocabulary_dereferences(server):
    """wkg: terms (<base>ontology#reason) resolve to the vocabulary document, as HTML or Turtle."""
    ttl = get(server, "ontology", "text/turtle")
    g = Graph().parse(data=ttl.text, format="turtle")
    wkg = Namespace("https://w3id.org/wartime-kg/ontology#")
    assert (wkg.reason, RDF.type, OWL.DatatypeProperty) in g
    page = get(server, "ontology", BROWSER_ACCEPT).text
    assert 'id="reason"' in page and 'id="deliveredThrough"' in page
    assert 'href="/ontology#reason"' in get(server, "annotation/" + next(
        a for a in get(server, "id/archibald-clark-kerr.json").json()["mentions"])["iri"].rsplit("/", 1)[1], BROWSER_ACCEPT).text


def test_format_param_offers_only_what_a_resource_has(server):
    """?format= must name a format the resource offers: anything else is a 400 that lists them, the same on
    entities, the vocabulary and VoID (never a 500, never negotiated instead, never a body under another label)."""
    entity = ["html", "ttl", "jsonld", "nt", "rdf", "json"]
    vocabulary = ["html", "ttl", "nt", "jsonld", "rdf", "json"]
    void = ["ttl", "nt", "jsonld", "rdf", "html"]
    for path, fmt, names in [("id/winston-churchill", "csv", entity), ("id/winston-churchill", "tsv", entity),
                             ("id/winston-churchill", "xml", entity), ("id/winston-churchill", "bogus", entity),
                             ("ontology", "csv", vocabulary), ("ontology", "srj", vocabulary), ("ontology", "bogus", vocabulary),
                             (".well-known/void", "json", void), (".well-known/void", "csv", void),
                             (".well-known/void", "bogus", void)]:
        for accept in (None, BROWSER_ACCEPT, "text/turtle"):
            r = get(server, path, accept, params={"format": fmt})
            assert r.status_code == 400, (path, fmt, accept, r.status_code, r.text)
            assert r.headers["Content-Type"].startswith("text/plain"), (path, fmt)
            assert f"not available as format={fmt};" in r.text, (path, fmt, r.text)
            assert "format must be one of " + ", ".join(names) + "\n" in r.text, (path, fmt, r.text)
    # the formats that are offered still answer, with their own type and a body of that type
    ttl = get(server, "id/winston-churchill", params={"format": "TTL"})
    assert ttl.status_code == 200 and ttl.headers["Content-Type"].startswith("text/turtle")
    assert (ENT["winston-churchill"], SKOS.prefLabel, Literal("Winston Churchill", lang="en")) in Graph().parse(data=ttl.text, format="turtle")
    page = get(server, "id/winston-churchill", "text/turtle", params={"format": "json"})
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("application/json")
    assert page.json()["kind"] == "entity" and page.json()["label"] == "Winston Churchill"
    wkg = Namespace("https://w3id.org/wartime-kg/ontology#")
    nt = get(server, "ontology", params={"format": "nt"})
    assert nt.status_code == 200 and nt.headers["Content-Type"].startswith("application/n-triples")
    assert (wkg.reason, RDF.type, OWL.DatatypeProperty) in Graph().parse(data=nt.text, format="nt")
    terms = get(server, "ontology", params={"format": "json"})
    assert terms.headers["Content-Type"].startswith("application/json") and any(t["name"] == "reason" for t in terms.json()["terms"])
    jsonld = get(server, ".well-known/void", params={"format": "jsonld"})
    assert jsonld.status_code == 200 and jsonld.headers["Content-Type"].startswith("application/ld+json")
    assert any(True for _ in Graph().parse(data=jsonld.text, format="json-ld").subjects(RDF.type, VOID.Dataset))
    html = get(server, ".well-known/void", "text/turtle", params={"format": "html"})
    assert html.status_code == 200 and html.headers["Content-Type"].startswith("text/html")
    assert get(server, ".well-known/void.json").status_code == 404  # VoID has no page JSON: no such address


def test_browser_accept_gets_html(server):
    r = get(server, "id/winston-churchill", BROWSER_ACCEPT)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert "<h1>Winston Churchill</h1>" in r.text
    assert 'href="http://www.wikidata.org/entity/Q8016"' in r.text
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert get(server, "id/winston-churchill").headers["Content-Type"].startswith("text/html")  # curl's */*


def test_entity_page_shows_everything(server):
    html = get(server, "id/archibald-clark-kerr", "text/html").text
    assert "British Ambassador to the Soviet Union" in html and "1942-03-14" in html  # offices with dates
    assert "Lord Inverchapel" in html  # labels
    assert "https://en.wikipedia.org/wiki/Archibald_Clark_Kerr,_1st_Baron_Inverchapel" in html
    assert 'id="timeline"' in html and 'class="bar"' in html
    assert 'href="/message/1942-03-29-stalin-to-churchill#m-' in html  # mention in context links to its message
    assert "<mark>Kerr</mark>" in html
    assert "alias &#34;Kerr&#34;" in html or "alias &quot;Kerr&quot;" in html  # why it was linked
    assert 'id="co-mentioned"' in html and 'href="/id/joseph-stalin"' in html
    office = get(server, "id/office/us-ambassador-to-ussr", "text/html").text
    assert "William H. Standley" in office and "1942-04-14" in office


def test_page_json_versions(server):
    kerr = get(server, "id/archibald-clark-kerr.json").json()
    assert get(server, "id/archibald-clark-kerr", "application/json").json() == kerr
    assert kerr["kind"] == "entity" and kerr["label"] == "Archibald Clark Kerr"
    assert str(ENT["office/uk-ambassador-to-ussr"]) in {o["office"] for o in kerr["offices"]}
    first = kerr["mentions"][0]
    assert first["date"] == "1942-03-29" and first["text"] == "Kerr" and first["reasons"] and first["score"] > 0
    assert kerr["timeline"]["total"] == sum(1 for m in kerr["mentions"] if m["date"])
    assert kerr["co_mentioned"][0]["messages"] >= kerr["co_mentioned"][-1]["messages"]
    msg = get(server, "message/1942-03-29-stalin-to-churchill.json").json()
    assert msg["kind"] == "message" and msg["date_created"] == "1942-03-29"
    assert "through Mr Kerr" in msg["text"]
    assert msg["sender"]["iri"] == str(ENT["joseph-stalin"]) and msg["recipients"][0]["iri"] == str(ENT["winston-churchill"])
    assert msg["delivered"][0]["through"]["iri"] == str(ENT["archibald-clark-kerr"])
    assert "".join(s["text"] for s in msg["segments"]) == msg["text"]
    home = get(server, ".json").json()
    assert home["counts"]["messages"] > 300 and len(home["sources"]) == 5


def test_message_page(server, source_texts):
    r = get(server, "message/1942-03-29-stalin-to-churchill", BROWSER_ACCEPT)
    html = r.text
    assert 'href="/id/archibald-clark-kerr"' in html and 'class="mention t-person"' in html
    assert "Delivered through" in html and "War Telegrams" in html and "Red Star Press" in html
    assert 'href="/id/joseph-stalin"' in html
    stub = get(server, "message/stub/1941-11-07-churchill-to-stalin", BROWSER_ACCEPT).text
    assert "not in the corpus" in stub and 'href="/message/1941-11-08-stalin-to-churchill"' in stub
    source = get(server, "source/001_3885a6e84abb0fe1", BROWSER_ACCEPT).text
    assert source.count('href="/message/') > 300


def test_unknown_iris_and_traversal_are_404(server, built_store):
    assert get(server, "id/no-such-person", "text/turtle").status_code == 404
    assert get(server, "message/1999-01-01-nobody", BROWSER_ACCEPT).status_code == 404
    host, port = server.url[len("http://"):].rstrip("/").split(":")
    for path in ["/id/../../etc/passwd", "/id/%2e%2e/%2e%2e/etc/passwd", "/message/..%2f..%2fetc%2fpasswd",
                 "/static/../serve.py", "/static/%2e%2e/serve.py", "/queries/../kg/serve.py", "/dumps/../build.json",
                 "/dumps/%2e%2e/build.json", "//etc/passwd", "/etc/passwd", "/id/..", "/source/../../../../etc/passwd",
                 "/.well-known/../build.json", "/static/", "/dumps/"]:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        conn.request("GET", path, headers={"Accept": "text/turtle"})
        resp = conn.getresponse()
        body = resp.read().decode(errors="replace")
        conn.close()
        assert resp.status == 404, (path, resp.status)
        assert "root:" not in body and "import " not in body and '"build_id"' not in body, path


def test_void_and_dumps(server):
    r = get(server, ".well-known/void")  # no Accept: Turtle by default
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/turtle")
    void = Graph().parse(data=r.text, format="turtle")
    subsets = set(void.objects(None, VOID.subset))
    dataset = next(s for s in void.subjects(RDF.type, VOID.Dataset) if s not in subsets)
    triples = int(void.value(dataset, VOID.triples))
    assert int(void.value(dataset, VOID.entities)) > 500
    endpoint = void.value(dataset, VOID.sparqlEndpoint)
    assert str(endpoint) == server.url + "query"
    assert requests.get(str(endpoint), params={"query": "ASK { ?s ?p ?o }"}, headers={"Accept": "application/json"},
                        timeout=30).json()["boolean"] is True
    dumps = {str(d) for d in void.objects(dataset, VOID.dataDump)}
    assert dumps == {server.url + "dumps/graph.nq.gz", server.url + "dumps/graph.ttl.gz"}
    assert sum(int(void.value(s, VOID.triples)) for s in subsets) == triples
    nq = requests.get(server.url + "dumps/graph.nq.gz", timeout=60)
    assert nq.headers["Content-Type"] == "application/gzip"
    quads = Dataset()
    quads.parse(data=gzip.decompress(nq.content).decode(), format="nquads")
    assert len(list(quads.quads((None, None, None, None)))) == triples
    ttl = requests.get(server.url + "dumps/graph.ttl.gz", timeout=60)
    # parsed with Oxigraph: rdflib rejects the valid escaped local names (dbr:Edward_Stettinius_Jr\.) of this dump
    union = [q.triple for q in ox.parse(gzip.decompress(ttl.content), format=ox.RdfFormat.TURTLE)]
    assert 0 < len(union) <= triples
    assert ox.Triple(ox.NamedNode(str(ENT["winston-churchill"])), ox.NamedNode(str(SKOS.prefLabel)),
                     ox.Literal("Winston Churchill", language="en")) in union
    jsonld = get(server, ".well-known/void", "application/ld+json")
    assert len(Graph().parse(data=jsonld.text, format="json-ld")) == len(void)
    assert get(server, ".well-known/void", BROWSER_ACCEPT).headers["Content-Type"].startswith("text/html")


def test_home_and_query_pages(server, build_summary):
    home = get(server, "", BROWSER_ACCEPT).text
    for link in ['href="/sparql"', 'href="/.well-known/void"', 'href="/dumps/graph.nq.gz"', 'href="/dumps/graph.ttl.gz"',
                 'href="/id/winston-churchill"', 'href="/source/001_3885a6e84abb0fe1"']:
        assert link in home, link
    assert f"<strong>{build_summary['messages']}</strong> messages" in home
    page = get(server, "sparql", BROWSER_ACCEPT).text
    names = sorted(p.stem for p in QUERIES.glob("*.rq"))
    for name in names:
        assert f'data-name="{name}"' in page
    listing = get(server, "queries.json").json()
    assert sorted(q["name"] for q in listing) == names
    assert get(server, "queries/replies.rq").text == canned("replies")
    assert get(server, "query", BROWSER_ACCEPT, allow_redirects=False).status_code == 303


def test_fifty_concurrent_clients(server, endpoint):
    queries = [canned(p.stem) for p in sorted(QUERIES.glob("*.rq"))]
    pages = ["id/winston-churchill", "id/joseph-stalin", "id/poland", "message/1942-03-29-stalin-to-churchill", "",
             ".well-known/void", "source/001_3885a6e84abb0fe1", "id/moscow"]

    def client(i: int) -> list[str]:
        errors = []
        with requests.Session() as s:
            for k in range(6):
                if k % 2:
                    r = s.post(endpoint, data={"query": queries[(i + k) % len(queries)]},
                               headers={"Accept": "application/sparql-results+json"}, timeout=120)
                else:
                    accept = "text/turtle" if i % 3 == 0 else "application/ld+json" if i % 3 == 1 else BROWSER_ACCEPT
                    r = s.get(server.url + pages[(i + k) % len(pages)], headers={"Accept": accept}, timeout=120)
                if r.status_code != 200:
                    errors.append(f"{r.status_code} {r.url}: {r.text[:200]}")
        return errors

    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        errors = [e for errs in pool.map(client, range(50)) for e in errs]
    assert errors == []


# ------------------------------------------------------------------------------------------------
# Timeout, --base, SIGINT (a second server)
# ------------------------------------------------------------------------------------------------

def test_timeout_base_and_sigint(built_store, tmp_path):
    served = start_server(built_store, tmp_path, "--timeout", "1", "--base", "http://example.org/kg/")
    try:
        endpoint = served.url + "query"
        before = served.children()
        t0 = time.monotonic()
        r = requests.post(endpoint, data={"query": "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?c ?f LIMIT 3"}, timeout=60)
        assert r.status_code == 504 and "timeout" in r.text and "1 s" in r.text
        assert time.monotonic() - t0 < 15
        ok = requests.get(endpoint, params={"query": canned("office-holder-on-date")}, headers={"Accept": "text/csv"}, timeout=60)
        assert ok.status_code == 200 and "Standley" in ok.text  # a fresh worker took the killed one's place
        gone = before - served.children()
        assert gone and not any(alive(p) for p in gone)
        # --base: the same resources, published under another base
        ttl = requests.get(served.url + "kg/id/winston-churchill", headers={"Accept": "text/turtle"}, timeout=60)
        g = Graph().parse(data=ttl.text, format="turtle")
        assert (URIRef("http://example.org/kg/id/winston-churchill"), SKOS.prefLabel, Literal("Winston Churchill", lang="en")) in g
        assert not any(str(s).startswith("https://w3id.org/wartime-kg/") for s in g.subjects())
        assert requests.get(served.url + "id/winston-churchill", headers={"Accept": "text/turtle"}, timeout=60).status_code == 200
        html = requests.get(served.url + "kg/id/winston-churchill", headers={"Accept": "text/html"}, timeout=60).text
        assert "http://example.org/kg/id/winston-churchill" in html and 'href="/kg/id/joseph-stalin"' in html
        void = Graph().parse(data=requests.get(served.url + ".well-known/void", timeout=60).text, format="turtle")
        assert URIRef("http://example.org/kg/query") in set(void.objects(None, VOID.sparqlEndpoint))
    finally:
        stop_server(served, signal.SIGINT)


def test_identical_runaway_queries_share_one_timeout(built_store, tmp_path):
    """Requests that arrive while the same query is running get its answer, a 504 included: three identical runaway
    queries cost one timeout and one killed worker, not three. The 504 is still not cached for later requests."""
    timeout = 3
    served = start_server(built_store, tmp_path, "--timeout", str(timeout))
    try:
        endpoint = served.url + "query"
        slow = {"query": "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?f ?c LIMIT 3"}
        before = served.children()

        def ask(_: int) -> tuple[requests.Response, float]:
            t0 = time.monotonic()
            r = requests.post(endpoint, data=slow, headers={"Accept": "application/sparql-results+json"}, timeout=120)
            return r, time.monotonic() - t0

        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            t0 = time.monotonic()
            answers = list(pool.map(ask, range(3)))
            total = time.monotonic() - t0
        for r, took in answers:
            assert r.status_code == 504, (r.status_code, r.text)
            assert r.headers["Content-Type"].startswith("text/plain")
            assert "query timeout" in r.text and f"longer than {timeout} s" in r.text
            assert took >= timeout * 0.9
        assert total < 2 * timeout, f"three identical queries took {total:.1f} s with a {timeout} s timeout"
        after = served.children()
        assert len(before - after) == 1  # one worker was stopped, not one per request
        # not cached: the same query asked again runs again (and times out again)
        again, took = ask(0)
        assert again.status_code == 504 and "query timeout" in again.text and took >= timeout * 0.9
        assert len(after - served.children()) == 1
        ok = requests.get(endpoint, params={"query": canned("office-holder-on-date")}, headers={"Accept": "text/csv"}, timeout=60)
        assert ok.status_code == 200 and "Standley" in ok.text
    finally:
        stop_server(served)


def test_sigkill_leaves_no_workers(built_store, tmp_path):
    """Even a server killed outright (no chance to clean up) takes its query workers with it."""
    served = start_server(built_store, tmp_path)
    children = served.children()
    assert children
    served.proc.kill()
    served.proc.wait(30)
    deadline = time.monotonic() + 10
    while any(alive(c) for c in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [c for c in children if alive(c)]


# ------------------------------------------------------------------------------------------------
# Text from documents is escaped
# ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def crafted_server(tmp_path_factory):
    base = tmp_path_factory.mktemp("crafted")
    store, seeds = build_crafted(base)
    served = start_server(store, base, env={"WARTIME_KG_SEEDS": str(seeds)})
    yield served
    stop_server(served)


def test_script_in_a_document_is_escaped(crafted_server):
    home = get(crafted_server, "", BROWSER_ACCEPT).text
    msg_iri = next(m for m in get(crafted_server, "source/crafted.json").json()["messages"])["iri"]
    message = get(crafted_server, msg_iri.split("wartime-kg/", 1)[1], BROWSER_ACCEPT).text
    molotov = get(crafted_server, "id/vyacheslav-molotov", BROWSER_ACCEPT).text
    for page in (home, message, molotov):
        assert "<script>alert" not in page and "<img src=x" not in page
    assert "Mr &lt;script&gt;alert(1)&lt;/script&gt; " in message  # the text, shown as text
    assert "&lt;img src=x onerror=alert(2)&gt;" in message
    assert 'href="/id/vyacheslav-molotov"' in message  # and its mentions still linked
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>Molotov</mark>" in molotov  # snippet on the entity page
    assert "A crafted &lt;script&gt;alert(3)&lt;/script&gt; document" in home
    assert "Crafted &lt;b&gt;citation&lt;/b&gt;" in message
    data = get(crafted_server, "id/vyacheslav-molotov.json").json()
    assert any("<script>alert(1)</script>" in m["prefix"] for m in data["mentions"])  # JSON keeps the real text


def test_in_memory_workers_answer_as_the_on_disk_store(built_store, tmp_path):
    """Query workers that hold the graph in memory (the default for a graph of the seeds' size) answer every
    canned query exactly as workers that read the on-disk store; `kg serve` says which it does."""
    answers = {}
    for mode in ("always", "never"):
        (tmp_path / mode).mkdir()
        served = start_server(built_store, tmp_path / mode, "--in-memory", mode, "--workers", "2")
        try:
            assert ("holding the graph in memory" in served.output()) == (mode == "always")
            answers[mode] = {
                f.stem: requests.get(served.url + "query", params={"query": f.read_text(encoding="utf-8")},
                                     headers={"Accept": "text/csv"}, timeout=60).text
                for f in sorted(QUERIES.glob("*.rq")) if f.stem != "most-co-mentioned-people"}
        finally:
            stop_server(served)
    def rows(text: str) -> list[list[str]]:
        # GROUP_CONCAT (mention-reasons) joins a group's values in the order the store yields them, which
        # SPARQL leaves open: compare the joined reasons as sets
        return [[" | ".join(sorted(cell.split(" | "))) for cell in row] for row in csv.reader(io.StringIO(text))]

    assert {k: rows(v) for k, v in answers["always"].items()} == {k: rows(v) for k, v in answers["never"].items()}
    assert "Standley" in answers["always"]["office-holder-on-date"]
    bad = subprocess.run([*kg_command(), "serve", "--store", str(built_store), "--in-memory", "sometimes"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--in-memory" in bad.stderr
