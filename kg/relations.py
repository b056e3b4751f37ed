"""Relations the text states outright: a message delivered, handed or transmitted through a person.

"Thank you for the message which reached me through Mr Kerr", "Mr Standley handed to Mr Molotov",
"through the courtesy of Mr Standley". Each becomes an edge (message -> person) with the sentence as
evidence, so a historian can see the words the edge rests on.
"""

from __future__ import annotations

import re

from spacy.tokens import Doc

from .cleantext import CleanText
from .doctext import doc_text

_VERBS = r"(?:reach(?:ed|es)?|sent|send|deliver(?:ed|s)?|transmit(?:ted|s)?|convey(?:ed|s)?|forward(?:ed|s)?|hand(?:ed|s)?|brought|bring|pass(?:ed|es)?|receiv(?:ed|e)|present(?:ed|s)?)"
_THROUGH_BEFORE = re.compile(
    r"\b(?:through|via|by)\s+(?:the\s+(?:good\s+)?(?:courtesy|offices|hands?)\s+of\s+)?"
    r"(?:(?:Mr\.?|Sir|Lord|General|Gen\.|Admiral|Ambassador|Marshal|M\.|Field\s+Marshal|Lieutenant-General|Major-General)\s+)?$"
)
_HANDS_AFTER = re.compile(r"^\s+(?:has\s+|had\s+)?(handed|delivered|transmitted|conveyed|passed|presented)\b")
_TO_AFTER = re.compile(r"^\s+(?:over\s+)?to\s+(?:(?:Mr\.?|Sir|Lord|General|Marshal|M\.)\s+)?$")


_WINDOW = 80  # characters around a name that the cues can span (the longest is about 50)


def find_deliveries(doc: Doc, ct: CleanText, message: str) -> list[dict]:
    """Delivery edges of one message. The cues are looked for in a short window around each linked
    person first; only a person with a cue next to it costs a sentence look-up (walking every sentence
    of every message took about 4% of a build)."""
    people = [s for s in doc.spans.get("mentions", []) if s._.mention_type == "PERSON" and s._.link and s._.link.entity]
    if not people:
        return []
    text = doc_text(doc)
    found = []
    for order, p in enumerate(people):
        near_before = text[max(0, p.start_char - _WINDOW) : p.start_char]
        near_after = text[p.end_char : p.end_char + _WINDOW]
        if not (_THROUGH_BEFORE.search(near_before) or _HANDS_AFTER.match(near_after)):
            continue
        sent = p.sent
        if p.end > sent.end:
            continue
        found.append((sent.start, order, p, sent))
    out = []
    for _, _, p, sent in sorted(found, key=lambda f: (f[0], f[1])):
        if not re.search(rf"\b{_VERBS}\b", sent.text, re.I):
            continue
        in_sent = [q for q in people if q.start >= sent.start and q.end <= sent.end]
        before = text[sent.start_char : p.start_char]
        after = text[p.end_char : sent.end_char]
        to = None
        verb = None
        if _THROUGH_BEFORE.search(before):
            verb = "through"
        else:
            m = _HANDS_AFTER.match(after)
            if m:
                verb = m.group(1)
                for q in in_sent[in_sent.index(p) + 1 :]:
                    between = text[p.end_char + m.end() : q.start_char]
                    if _TO_AFTER.match(between) or len(between) < 40:
                        to = q
                        break
        if verb is None:
            continue
        s, e = ct.to_raw(sent.start_char, sent.end_char)
        out.append(
            {
                "message": message,
                "through": p._.link.entity,
                "to": to._.link.entity if to is not None else None,
                "cue": verb,
                "evidence": sent.text.strip(),
                "start": s,
                "end": e,
            }
        )
    return out
