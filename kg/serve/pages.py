"""What each HTML page shows (home, entity, message, source, any other resource), as plain JSON-able data.

The same data is the page's JSON (`.json`, `?format=json`), so it is computed apart from the templates
that render it. Each page is a handful of bounded SPARQL queries from one bound IRI, cached per IRI
(functools.lru_cache, keyed by the Site): the store never changes while it is served.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from typing import Any

from .site import AS_REPLY, DCT, OWL_SAMEAS, RDF_TYPE, RDFS, SCHEMA, SKOS, WKG, Site, iri_ref, local_name


def month_range(first: str, last: str) -> list[str]:
    y, m = int(first[:4]), int(first[5:7])
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def timeline(months: list[str]) -> dict:
    """Bars of an inline SVG: one per month from the first to the last mention, empty months included, so the
    gaps in a correspondence are as visible as its peaks."""
    if not months:
        return {"bars": [], "width": 0, "height": 0, "max": 0, "total": 0}
    counts = Counter(months)
    span = month_range(min(counts), max(counts))
    peak = max(counts.values())
    bar_w, gap, plot_h, top = 10, 2, 100, 14
    bars = []
    for i, month in enumerate(span):
        n = counts.get(month, 0)
        h = round(plot_h * n / peak) if n else 0
        x = i * (bar_w + gap)
        bars.append({"month": month, "count": n, "x": x, "y": top + plot_h - h, "w": bar_w, "h": h,
                     "label": month[:4] if month.endswith("-01") or i == 0 else ""})
    return {"bars": bars, "width": max(len(span) * (bar_w + gap), 60), "height": top + plot_h + 16, "base": top + plot_h,
            "max": peak, "total": sum(counts.values()), "first": span[0], "last": span[-1]}


def _oneline(s: str) -> str:
    return re.sub(r"\s+", " ", s)


def segments(text: str, offset: int, mentions: list[dict]) -> list[dict[str, Any]]:
    """The message text cut into plain runs and mention runs (by the mentions' absolute offsets). Overlapping
    mentions keep the first. The runs are rendered by the template, which escapes them."""
    out: list[dict[str, Any]] = []
    pos = 0
    for m in mentions:
        s, e = m["start"] - offset, m["end"] - offset
        if s < pos or e > len(text) or s >= e:
            continue
        if s > pos:
            out.append({"text": text[pos:s]})
        out.append({"text": text[s:e], "mention": m})
        pos = e
    if pos < len(text):
        out.append({"text": text[pos:]})
    return out


@functools.lru_cache(maxsize=1)
def home(site: Site) -> dict[str, Any]:
    counts = site.select("SELECT (COUNT(*) AS ?triples) WHERE { GRAPH ?g { ?s ?p ?o } }")[0]
    msgs = site.select("""SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE { ?m a schema:Message ; schema:isPartOf ?src }""")[0]["n"]
    stubs = site.select("""SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE { ?m wkg:stub true }""")[0]["n"]
    ment = site.select("""SELECT (COUNT(?a) AS ?n) (COUNT(?e) AS ?linked) (COUNT(DISTINCT ?e) AS ?entities) WHERE {
        ?a a oa:Annotation . OPTIONAL { ?a oa:hasBody ?e } }""")[0]
    reviewed = site.select("""SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e wkg:reviewed true ; skos:prefLabel ?l }""")[0]["n"]
    unreviewed = site.select("""SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e wkg:reviewed false }""")[0]["n"]
    sources = site.select("""
        SELECT ?source ?file ?title ?kind ?citation ?date (COUNT(DISTINCT ?m) AS ?messages) WHERE {
          ?source a schema:CreativeWork ; wkg:fileName ?file ; dcterms:title ?title .
          OPTIONAL { ?source wkg:sourceKind ?kind } OPTIONAL { ?source dcterms:bibliographicCitation ?citation }
          OPTIONAL { ?source dcterms:date ?date } OPTIONAL { ?m schema:isPartOf ?source } }
        GROUP BY ?source ?file ?title ?kind ?citation ?date ORDER BY ?file""")
    top = site.select("""
        SELECT ?e (COUNT(?a) AS ?n) WHERE { ?a oa:hasBody ?e } GROUP BY ?e ORDER BY DESC(?n) ?e LIMIT 40""")
    labels = site.labels([t["e"] for t in top])
    types = _mention_types(site, [t["e"] for t in top])
    return {
        "counts": {"triples": counts["triples"], "messages": msgs, "cited_messages": stubs, "mentions": ment["n"],
                   "linked_mentions": ment["linked"], "entities_mentioned": ment["entities"],
                   "reviewed_entities": reviewed, "unreviewed_entities": unreviewed},
        "build": {k: site.build.get(k) for k in ("build_id", "version", "pipeline", "model") if k in site.build},
        "sources": [{**s, "iri": s["source"]} for s in sources],
        "top_entities": [{"iri": t["e"], "label": labels.get(t["e"], local_name(t["e"])), "type": types.get(t["e"]),
                          "mentions": t["n"]} for t in top],
        "queries": [{"name": q["name"], "title": q["title"]} for q in site.queries],
    }


def _mention_types(site: Site, iris: list[str]) -> dict[str, str]:
    if not iris:
        return {}
    values = " ".join(iri_ref(i) for i in iris)
    return {r["e"]: r["t"] for r in site.select(f"SELECT ?e ?t WHERE {{ VALUES ?e {{ {values} }} ?e wkg:mentionType ?t }}")}


@functools.lru_cache(maxsize=512)
def entity(site: Site, iri: str) -> dict[str, Any]:
    ref = iri_ref(iri)
    st = site.statements(iri)
    by_p: dict[str, list] = {}
    for s in st:
        by_p.setdefault(s["p"], [])
        if s["o"] not in by_p[s["p"]]:
            by_p[s["p"]].append(s["o"])
    same = by_p.get(OWL_SAMEAS, []) + by_p.get(SCHEMA + "sameAs", [])
    links = {"wikidata": [x for x in same if "wikidata.org/" in x], "dbpedia": [x for x in same if "dbpedia.org/" in x],
             "wikipedia": [x for x in same if "wikipedia.org/" in x]}
    links["other"] = [x for x in same if x not in links["wikidata"] + links["dbpedia"] + links["wikipedia"]]
    links["wikidata_candidates"] = [x for x in by_p.get(WKG + "wikidataCandidate", []) if x not in links["wikidata"]]
    types = by_p.get(RDF_TYPE, [])

    mentions = _entity_mentions(site, ref)
    offices = site.select(f"""
        SELECT ?tenure ?office ?start ?end ?note WHERE {{ ?tenure org:member {ref} ; org:role ?office .
          OPTIONAL {{ ?tenure schema:startDate ?start }} OPTIONAL {{ ?tenure schema:endDate ?end }}
          OPTIONAL {{ ?tenure skos:note ?note }} }} ORDER BY ?start ?office""")
    holders = site.select(f"""
        SELECT ?tenure ?person ?start ?end ?note WHERE {{ ?tenure org:role {ref} ; org:member ?person .
          OPTIONAL {{ ?tenure schema:startDate ?start }} OPTIONAL {{ ?tenure schema:endDate ?end }}
          OPTIONAL {{ ?tenure skos:note ?note }} }} ORDER BY ?start ?person""")
    co = site.select(f"""
        SELECT ?other (COUNT(DISTINCT ?m) AS ?messages) WHERE {{
          ?a oa:hasBody {ref} ; wkg:inMessage ?m . ?b wkg:inMessage ?m ; oa:hasBody ?other . FILTER(?other != {ref}) }}
        GROUP BY ?other ORDER BY DESC(?messages) ?other LIMIT 25""")
    corr = site.select(f"""
        SELECT ?message ?role ?created ?sent ?approx ?label ?stub WHERE {{
          {{ ?message schema:sender {ref} BIND("sender" AS ?role) }}
          UNION {{ ?message schema:recipient {ref} BIND("recipient" AS ?role) }}
          UNION {{ ?message wkg:deliveredThrough {ref} BIND("delivered through" AS ?role) }}
          ?message a schema:Message .
          OPTIONAL {{ ?message schema:dateCreated ?created }} OPTIONAL {{ ?message schema:dateSent ?sent }}
          OPTIONAL {{ ?message wkg:approximateDate ?approx }} OPTIONAL {{ ?message rdfs:label ?label }}
          BIND(EXISTS {{ ?message wkg:stub true }} AS ?stub) }}""")
    related = set(by_p.get(WKG + "associatedWith", []) + by_p.get(WKG + "country", []))
    names = site.labels([o["office"] for o in offices] + [h["person"] for h in holders] + [c["other"] for c in co]
                        + list(related) + types + [m["via"] for m in mentions if m.get("via")])
    corr_rows: dict[tuple[str, str], dict] = {}
    for c in corr:
        corr_rows.setdefault((c["message"], c["role"]), {
            "iri": c["message"], "role": c["role"], "label": c["label"] or local_name(c["message"]),
            "date": c["created"] or c["sent"] or c["approx"], "approximate": not (c["created"] or c["sent"]) and bool(c["approx"]),
            "stub": bool(c["stub"])})
    for m in mentions:
        if m.get("via"):
            m["via_label"] = names.get(m["via"], local_name(m["via"]))
    pref = by_p.get(SKOS + "prefLabel", [])
    return {
        "iri": iri,
        "label": pref[0] if pref else site.labels_of(iri),
        "labels": pref,
        "alt_labels": by_p.get(SKOS + "altLabel", []),
        "description": (by_p.get(SCHEMA + "description") or [None])[0],
        "types": [{"iri": t, "label": names.get(t, local_name(t))} for t in types],
        "mention_type": (by_p.get(WKG + "mentionType") or [None])[0],
        "reviewed": (by_p.get(WKG + "reviewed") or [None])[0],
        "birth": (by_p.get(SCHEMA + "birthDate") or [None])[0],
        "death": (by_p.get(SCHEMA + "deathDate") or [None])[0],
        "start": (by_p.get(SCHEMA + "startDate") or [None])[0],
        "end": (by_p.get(SCHEMA + "endDate") or [None])[0],
        "wikipedia_title": (by_p.get(WKG + "wikipediaTitle") or [None])[0],
        "links": links,
        "related": sorted(({"iri": r, "label": names.get(r, local_name(r))} for r in related), key=lambda x: x["label"]),
        "offices": [{**o, "label": names.get(o["office"], local_name(o["office"]))} for o in offices],
        "holders": [{**h, "label": names.get(h["person"], local_name(h["person"]))} for h in holders],
        "mentions": mentions,
        "timeline": timeline([m["date"][:7] for m in mentions if m.get("date")]),
        "undated_mentions": sum(1 for m in mentions if not m.get("date")),
        "co_mentioned": [{"iri": c["other"], "label": names.get(c["other"], local_name(c["other"])), "messages": c["messages"]}
                         for c in co],
        "correspondence": sorted(corr_rows.values(), key=lambda r: (r["date"] or "9999", r["iri"])),
        "statements": st,
    }


def _entity_mentions(site: Site, ref: str) -> list[dict[str, Any]]:
    rows = site.select(f"""
        SELECT ?a ?message ?start ?end ?exact ?prefix ?suffix ?score ?type ?alias ?cue ?via ?created ?sent ?approx ?mlabel WHERE {{
          ?a oa:hasBody {ref} ; wkg:inMessage ?message ; oa:hasTarget ?t .
          ?t oa:hasSelector ?pos, ?quote .
          ?pos a oa:TextPositionSelector ; oa:start ?start ; oa:end ?end .
          ?quote a oa:TextQuoteSelector ; oa:exact ?exact .
          OPTIONAL {{ ?quote oa:prefix ?prefix }} OPTIONAL {{ ?quote oa:suffix ?suffix }}
          OPTIONAL {{ ?a wkg:score ?score }} OPTIONAL {{ ?a wkg:mentionType ?type }}
          OPTIONAL {{ ?a wkg:matchedAlias ?alias }} OPTIONAL {{ ?a wkg:titleCue ?cue }} OPTIONAL {{ ?a wkg:viaOffice ?via }}
          OPTIONAL {{ ?message schema:dateCreated ?created }} OPTIONAL {{ ?message schema:dateSent ?sent }}
          OPTIONAL {{ ?message wkg:approximateDate ?approx }} OPTIONAL {{ ?message rdfs:label ?mlabel }} }}""")
    reasons: dict[str, list[str]] = {}
    for r in site.select(f"SELECT ?a ?reason WHERE {{ ?a oa:hasBody {ref} ; wkg:reason ?reason }} ORDER BY ?a ?reason"):
        reasons.setdefault(r["a"], []).append(r["reason"])
    out: dict[str, dict] = {}
    for r in rows:
        if r["a"] in out:
            continue
        date = r["created"] or r["sent"]
        out[r["a"]] = {
            "iri": r["a"], "message": r["message"], "message_label": r["mlabel"] or local_name(r["message"]),
            "date": date or r["approx"], "approximate": not date and bool(r["approx"]),
            "start": r["start"], "end": r["end"], "text": r["exact"],
            "prefix": _oneline(r["prefix"] or ""), "suffix": _oneline(r["suffix"] or ""),
            "score": r["score"], "type": r["type"], "alias": r["alias"], "title_cue": r["cue"], "via": r["via"],
            "reasons": reasons.get(r["a"], []),
        }
    return sorted(out.values(), key=lambda m: (m["date"] or "9999", m["message"], m["start"]))


@functools.lru_cache(maxsize=512)
def message(site: Site, iri: str) -> dict[str, Any]:
    ref = iri_ref(iri)
    st = site.statements(iri)
    one: dict[str, Any] = {}
    many: dict[str, list] = {}
    for s in st:
        one.setdefault(s["p"], s["o"])
        many.setdefault(s["p"], [])
        if s["o"] not in many[s["p"]]:
            many[s["p"]].append(s["o"])
    source = one.get(SCHEMA + "isPartOf")
    src: dict[str, Any] = {}
    if source:
        sst = {s["p"]: s["o"] for s in site.statements(source)}
        src = {"iri": source, "title": sst.get(DCT + "title"), "citation": sst.get(DCT + "bibliographicCitation"),
               "url": sst.get(SCHEMA + "url"), "file": sst.get(WKG + "fileName"), "kind": sst.get(WKG + "sourceKind"),
               "sha256": sst.get(WKG + "sha256"), "genre": sst.get(SCHEMA + "genre"), "date": sst.get(DCT + "date")}
    replies_to = many.get(AS_REPLY, [])
    replies = [r["m"] for r in site.select(f"SELECT ?m WHERE {{ ?m as:inReplyTo {ref} }} ORDER BY ?m")]
    deliveries = site.select(f"""
        SELECT ?d ?through ?to ?cue ?evidence WHERE {{ ?d a wkg:Delivery ; wkg:message {ref} ; wkg:through ?through .
          OPTIONAL {{ ?d wkg:deliveredTo ?to }} OPTIONAL {{ ?d wkg:cue ?cue }} OPTIONAL {{ ?d wkg:evidence ?evidence }} }}
        ORDER BY ?d""")
    mentions = _message_mentions(site, ref)
    people = [one.get(SCHEMA + "sender")] + many.get(SCHEMA + "recipient", []) + [d["through"] for d in deliveries] \
        + [d["to"] for d in deliveries if d["to"]] + replies_to + replies + [m["entity"] for m in mentions if m["entity"]]
    names = site.labels([p for p in people if p])
    dates = _dates(site, replies_to + replies)

    def who(x: str | None) -> dict | None:
        return {"iri": x, "label": names.get(x, local_name(x))} if x else None

    def msg(x: str) -> dict:
        return {"iri": x, "label": names.get(x, local_name(x)), "date": dates.get(x)}

    for m in mentions:
        m["label"] = names.get(m["entity"], local_name(m["entity"])) if m["entity"] else None
    neighbours = {}
    pos = one.get(WKG + "position")
    if source and isinstance(pos, int):
        for r in site.select(f"""SELECT ?m ?pos WHERE {{ ?m schema:isPartOf {iri_ref(source)} ; wkg:position ?pos .
                                  FILTER(?pos = {pos - 1} || ?pos = {pos + 1}) }}"""):
            neighbours["previous" if r["pos"] < pos else "next"] = {"iri": r["m"], "label": site.labels_of(r["m"])}
    text, why = None, "this message is not in the corpus: it is known only because another message cites it"
    start, end = one.get("http://www.w3.org/ns/oa#start"), one.get("http://www.w3.org/ns/oa#end")
    if src.get("file") and isinstance(start, int) and isinstance(end, int):
        full, why = site.source_text(src["file"], src.get("sha256"))
        if full is not None:
            text = full[start:end]
    return {
        "iri": iri,
        "label": one.get(RDFS + "label") or local_name(iri),
        "headline": one.get(SCHEMA + "headline"),
        "stub": bool(one.get(WKG + "stub")),
        "date_created": one.get(SCHEMA + "dateCreated"),
        "date_sent": one.get(SCHEMA + "dateSent"),
        "approximate_date": one.get(WKG + "approximateDate"),
        "undated": bool(one.get(WKG + "undated")),
        "sender": who(one.get(SCHEMA + "sender")),
        "recipients": [who(r) for r in many.get(SCHEMA + "recipient", [])],
        "source": src,
        "position": pos,
        "start": start,
        "end": end,
        "notes": many.get(RDFS + "comment", []),
        "in_reply_to": [msg(r) for r in replies_to],
        "replies": [msg(r) for r in replies],
        "delivered": [{"iri": d["d"], "through": who(d["through"]), "to": who(d["to"]), "cue": d["cue"], "evidence": d["evidence"]}
                      for d in deliveries],
        "neighbours": neighbours,
        "mentions": mentions,
        "text": text,
        "text_missing": None if text is not None else why,
        "segments": segments(text, start, mentions) if text is not None else [],
        "statements": st,
    }


def _dates(site: Site, iris: list[str]) -> dict[str, str]:
    if not iris:
        return {}
    values = " ".join(iri_ref(i) for i in dict.fromkeys(iris))
    rows = site.select(f"""SELECT ?m ?d WHERE {{ VALUES ?m {{ {values} }}
        OPTIONAL {{ ?m schema:dateCreated ?c }} OPTIONAL {{ ?m schema:dateSent ?s }} BIND(COALESCE(?c, ?s) AS ?d) }}""")
    return {r["m"]: r["d"] for r in rows if r["d"]}


def _message_mentions(site: Site, ref: str) -> list[dict[str, Any]]:
    rows = site.select(f"""
        SELECT ?a ?entity ?start ?end ?exact ?score ?type WHERE {{
          ?a wkg:inMessage {ref} ; oa:hasTarget ?t . ?t oa:hasSelector ?pos, ?quote .
          ?pos a oa:TextPositionSelector ; oa:start ?start ; oa:end ?end .
          ?quote a oa:TextQuoteSelector ; oa:exact ?exact .
          OPTIONAL {{ ?a oa:hasBody ?entity }} OPTIONAL {{ ?a wkg:score ?score }} OPTIONAL {{ ?a wkg:mentionType ?type }} }}""")
    reasons: dict[str, list[str]] = {}
    for r in site.select(f"SELECT ?a ?reason WHERE {{ ?a wkg:inMessage {ref} ; wkg:reason ?reason }} ORDER BY ?a ?reason"):
        reasons.setdefault(r["a"], []).append(r["reason"])
    out: dict[str, dict] = {}
    for r in rows:
        out.setdefault(r["a"], {"iri": r["a"], "entity": r["entity"], "start": r["start"], "end": r["end"], "text": r["exact"],
                                "score": r["score"], "type": r["type"], "reasons": reasons.get(r["a"], [])})
    return sorted(out.values(), key=lambda m: (m["start"], -m["end"]))


@functools.lru_cache(maxsize=64)
def source(site: Site, iri: str) -> dict[str, Any]:
    st = site.statements(iri)
    one = {}
    for s in st:
        one.setdefault(s["p"], s["o"])
    msgs = site.select(f"""
        SELECT ?m ?pos ?label ?created ?sent ?approx ?sender (COUNT(?a) AS ?mentions) WHERE {{
          ?m schema:isPartOf {iri_ref(iri)} ; wkg:position ?pos .
          OPTIONAL {{ ?m rdfs:label ?label }} OPTIONAL {{ ?m schema:dateCreated ?created }}
          OPTIONAL {{ ?m schema:dateSent ?sent }} OPTIONAL {{ ?m wkg:approximateDate ?approx }}
          OPTIONAL {{ ?m schema:sender ?sender }} OPTIONAL {{ ?a wkg:inMessage ?m }} }}
        GROUP BY ?m ?pos ?label ?created ?sent ?approx ?sender ORDER BY ?pos""")
    names = site.labels([m["sender"] for m in msgs if m["sender"]])
    return {
        "iri": iri, "title": one.get(DCT + "title") or local_name(iri), "citation": one.get(DCT + "bibliographicCitation"),
        "url": one.get(SCHEMA + "url"), "file": one.get(WKG + "fileName"), "kind": one.get(WKG + "sourceKind"),
        "genre": one.get(SCHEMA + "genre"), "date": one.get(DCT + "date"), "sha256": one.get(WKG + "sha256"),
        "messages": [{"iri": m["m"], "position": m["pos"], "label": m["label"] or local_name(m["m"]),
                      "date": m["created"] or m["sent"] or m["approx"], "approximate": not (m["created"] or m["sent"]),
                      "sender": {"iri": m["sender"], "label": names.get(m["sender"], local_name(m["sender"]))} if m["sender"] else None,
                      "mentions": m["mentions"]} for m in msgs],
        "statements": st,
    }


@functools.lru_cache(maxsize=512)
def resource(site: Site, iri: str) -> dict[str, Any]:
    """Any other resource (tenure, annotation, graph, run): its statements, and what points at it."""
    ref = iri_ref(iri)
    st = site.statements(iri)
    parts = []
    if iri.startswith(site.graph_base + "annotation/"):
        for frag in ("target", "position", "quote"):
            sub = f"{iri}#{frag}"
            sub_st = site.statements(sub)
            if sub_st:
                parts.append({"iri": sub, "statements": sub_st})
    incoming = site.select(f"SELECT ?s ?p ?g WHERE {{ GRAPH ?g {{ ?s ?p {ref} }} }} ORDER BY ?p ?s LIMIT 500")
    size = None
    if iri.startswith(site.graph_base + "graph/"):
        size = site.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {ref} {{ ?s ?p ?o }} }}")[0]["n"]
    return {"iri": iri, "label": site.labels_of(iri), "statements": st, "parts": parts, "incoming": incoming, "graph_triples": size}
