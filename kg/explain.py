"""`kg explain`: why a mention was linked as it was, or how an entity's mentions were linked.

Accepts a mention annotation IRI, `FILE:START-END` (or `FILE:START`), an entity IRI, or an entity's
slug ("archibald-clark-kerr"). Reads only the store, so it explains exactly what is published.
"""

from __future__ import annotations

import re

import pyoxigraph as ox

from .exports import select
from .namespaces import ANNO, ENT, file_part

MENTION = """
SELECT ?a ?text ?type ?entity ?label ?score ?reason ?alias ?title ?office ?message ?mlabel ?source ?start ?end WHERE {
  GRAPH ?g {
    ?a a oa:Annotation ; wkg:mentionType ?type ; wkg:inMessage ?message ; oa:hasTarget ?t .
    ?t oa:hasSource ?src ; oa:hasSelector ?pos, ?q .
    ?pos a oa:TextPositionSelector ; oa:start ?start ; oa:end ?end .
    ?q a oa:TextQuoteSelector ; oa:exact ?text .
    ?src wkg:fileName ?source .
    OPTIONAL { ?a oa:hasBody ?entity }
    OPTIONAL { ?a wkg:score ?score }
    OPTIONAL { ?a wkg:reason ?reason }
    OPTIONAL { ?a wkg:matchedAlias ?alias }
    OPTIONAL { ?a wkg:titleCue ?title }
    OPTIONAL { ?a wkg:viaOffice ?office }
    OPTIONAL { ?message rdfs:label ?mlabel }
  }
  OPTIONAL { ?entity skos:prefLabel ?label }
  FILTER(?a = <%s>)
}
"""

ENTITY = """
SELECT ?a ?text ?type ?score ?source ?start ?end ?mlabel WHERE {
  GRAPH ?g {
    ?a oa:hasBody <%s> ; wkg:mentionType ?type ; wkg:inMessage ?m ; oa:hasTarget ?t .
    ?t oa:hasSource ?src ; oa:hasSelector ?pos, ?q .
    ?pos a oa:TextPositionSelector ; oa:start ?start ; oa:end ?end .
    ?q a oa:TextQuoteSelector ; oa:exact ?text .
    ?src wkg:fileName ?source .
    OPTIONAL { ?a wkg:score ?score }
    OPTIONAL { ?m rdfs:label ?mlabel }
  }
}
ORDER BY ?source ?start
"""

ENTITY_INFO = """
SELECT ?label ?wikipedia ?same ?reviewed ?desc WHERE {
  { <%s> skos:prefLabel ?label } UNION { GRAPH ?g { <%s> skos:prefLabel ?label } }
  OPTIONAL { <%s> wkg:wikipediaTitle ?wikipedia }
  OPTIONAL { <%s> owl:sameAs ?same }
  OPTIONAL { { <%s> wkg:reviewed ?reviewed } UNION { GRAPH ?g2 { <%s> wkg:reviewed ?reviewed } } }
  OPTIONAL { <%s> schema:description ?desc }
}
"""


def _resolve(target: str) -> tuple[str, str]:
    """('mention' | 'entity', IRI)."""
    m = re.fullmatch(r"([^:/]+\.txt):(\d+)(?:-(\d+))?", target)
    if m:
        stem = file_part(m.group(1).rsplit(".", 1)[0])
        end = m.group(3)
        return "mention-prefix" if end is None else "mention", str(ANNO[f"{stem}-{m.group(2)}" + (f"-{end}" if end else "")])
    if target.startswith("http"):
        return ("mention" if "/annotation/" in target else "entity"), target
    return "entity", str(ENT[target])


def explain(store: ox.Store, target: str) -> str:
    kind, iri = _resolve(target)
    if kind == "mention-prefix":
        rows = select(store, f'SELECT DISTINCT ?a WHERE {{ GRAPH ?g {{ ?a a oa:Annotation }} FILTER(STRSTARTS(STR(?a), "{iri}-")) }}')
        if not rows:
            return f"no mention starts at {target}"
        iri = rows[0]["a"]
        kind = "mention"
    if kind == "mention":
        return _explain_mention(store, iri)
    return _explain_entity(store, iri)


def _explain_mention(store: ox.Store, iri: str) -> str:
    rows = select(store, MENTION % iri)
    if not rows:
        return f"no mention {iri}"
    r = rows[0]
    reasons = sorted({x["reason"] for x in rows if x["reason"]})
    out = [
        f'mention "{r["text"]}" ({r["type"]}) at {r["source"]}:{r["start"]}-{r["end"]}',
        f"  in message: {r['mlabel'] or r['message']}",
        f"  linked to:  {r['label'] or '-'} <{r['entity']}>" if r["entity"] else "  linked to:  nothing",
        f"  score:      {r['score']}" if r["score"] is not None else "  score:      - (a new entity, or a role without a holder)",
    ]
    if r["alias"]:
        out.append(f"  alias:      {r['alias']}")
    if r["title"]:
        out.append(f"  title cue:  {r['title']}")
    if r["office"]:
        out.append(f"  via office: {r['office']}")
    out.append("  because:")
    out += [f"    - {x}" for x in reasons]
    return "\n".join(out)


def _explain_entity(store: ox.Store, iri: str) -> str:
    info = select(store, ENTITY_INFO % ((iri,) * 7))
    rows = select(store, ENTITY % iri)
    if not info and not rows:
        return f"no entity {iri}"
    label = info[0]["label"] if info else iri
    same = sorted({x["same"] for x in info if x["same"]})
    reviewed = info[0]["reviewed"] if info else None
    out = [f"{label} <{iri}>"]
    if info and info[0]["wikipedia"]:
        out.append(f"  Wikipedia: {info[0]['wikipedia']}")
    out += [f"  sameAs: {s}" for s in same]
    out.append(f"  reviewed: {reviewed}")
    out.append(f"  {len(rows)} mentions:")
    for r in rows[:50]:
        out.append(f'    {r["source"]}:{r["start"]}-{r["end"]} "{r["text"]}" ({r["type"]}, score {r["score"]}) in {r["mlabel"]}')
    if len(rows) > 50:
        out.append(f"    ... and {len(rows) - 50} more; `kg explain FILE:START-END` explains one")
    return "\n".join(out)
