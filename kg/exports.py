"""`kg export messages|mentions`: JSON Lines read back from the store with SPARQL.

The exports are answers of the published graph, not of the build's memory, so what a user exports is
exactly what the endpoint serves. Field names are an interface others rely on: keep them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO

import pyoxigraph as ox

from .namespaces import sparql_prologue

MENTIONS_QUERY = """
SELECT ?source ?start ?end ?text ?type ?entity ?label ?wikidata ?wikipedia ?score ?message WHERE {
  GRAPH ?g {
    ?a a oa:Annotation ; oa:hasTarget ?t ; wkg:mentionType ?type ; wkg:inMessage ?message .
    ?t oa:hasSource ?src ; oa:hasSelector ?pos, ?quote .
    ?pos a oa:TextPositionSelector ; oa:start ?start ; oa:end ?end .
    ?quote a oa:TextQuoteSelector ; oa:exact ?text .
    ?src wkg:fileName ?source .
    OPTIONAL { ?a oa:hasBody ?entity }
    OPTIONAL { ?a wkg:score ?score }
  }
  OPTIONAL { ?entity skos:prefLabel ?label }
  OPTIONAL { ?entity owl:sameAs ?wd . FILTER(STRSTARTS(STR(?wd), "http://www.wikidata.org/entity/")) BIND(STRAFTER(STR(?wd), "entity/") AS ?wikidata) }
  OPTIONAL { ?entity wkg:wikipediaTitle ?wikipedia }
}
ORDER BY ?source ?start ?end
"""

MESSAGES_QUERY = """
SELECT ?id ?source ?start ?end ?date ?date_sent ?sender ?position WHERE {
  GRAPH ?g {
    ?id a schema:Message ; schema:isPartOf ?src ; oa:start ?start ; oa:end ?end ; wkg:position ?position .
    ?src wkg:fileName ?source .
    OPTIONAL { ?id schema:dateCreated ?date }
    OPTIONAL { ?id schema:dateSent ?date_sent }
    OPTIONAL { ?id schema:sender ?sender }
  }
}
ORDER BY ?source ?start
"""

RECIPIENTS_QUERY = """
SELECT ?id ?recipient WHERE { GRAPH ?g { ?id a schema:Message ; schema:isPartOf ?src ; schema:recipient ?recipient } }
ORDER BY ?id ?recipient
"""

PEOPLE_QUERY = """
SELECT ?e ?label ?wikipedia WHERE {
  { ?e skos:prefLabel ?label } UNION { GRAPH ?g { ?e skos:prefLabel ?label } }
  OPTIONAL { ?e wkg:wikipediaTitle ?wikipedia }
}
"""


def _value(term) -> object:
    if term is None:
        return None
    if isinstance(term, ox.Literal):
        dt = term.datatype.value if term.datatype else ""
        if dt.endswith("#integer"):
            return int(term.value)
        if dt.endswith("#decimal") or dt.endswith("#double"):
            return float(term.value)
        return term.value
    return term.value


def select(store: ox.Store, query: str) -> list[dict]:
    res = store.query(sparql_prologue() + query, use_default_graph_as_union=True)
    names = [v.value for v in res.variables]
    return [{n: _value(row[n]) for n in names} for row in res]


def iter_mentions(store: ox.Store) -> Iterator[dict]:
    seen = set()
    for row in select(store, MENTIONS_QUERY):
        key = (row["source"], row["start"], row["end"])
        if key in seen:  # an entity with two labels or Wikidata links: first one wins
            continue
        seen.add(key)
        yield {
            "source": row["source"],
            "start": row["start"],
            "end": row["end"],
            "text": row["text"],
            "type": row["type"],
            "entity": row["entity"],
            "label": row["label"],
            "wikidata": row["wikidata"],
            "wikipedia": row["wikipedia"],
            "score": row["score"],
            "message": row["message"],
        }


def _people(store: ox.Store) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for row in select(store, PEOPLE_QUERY):
        out.setdefault(row["e"], {"entity": row["e"], "label": row["label"], "wikipedia": row["wikipedia"]})
    return out


def iter_messages(store: ox.Store) -> Iterator[dict]:
    people = _people(store)
    recipients: dict[str, list[str]] = {}
    for row in select(store, RECIPIENTS_QUERY):
        recipients.setdefault(row["id"], []).append(row["recipient"])

    def who(iri: str | None) -> dict | None:
        if iri is None:
            return None
        return people.get(iri, {"entity": iri, "label": None, "wikipedia": None})

    rows = select(store, MESSAGES_QUERY)
    for row in sorted(rows, key=lambda r: (r["source"], r["start"])):
        yield {
            "id": row["id"],
            "source": row["source"],
            "start": row["start"],
            "end": row["end"],
            "sender": who(row["sender"]),
            "recipients": [who(r) for r in recipients.get(row["id"], [])],
            "date": row["date"],
            "date_sent": row["date_sent"],
        }


def write_jsonl(records: Iterator[dict], out: IO[str]) -> int:
    n = 0
    for r in records:
        out.write(json.dumps(r, ensure_ascii=False) + "\n")
        n += 1
    return n
