"""Relations the text states outright: a message delivered, handed or transmitted through a person.

"Thank you for the message which reached me through Mr Kerr", "Mr Standley handed to Mr Molotov",
"through the courtesy of Mr Standley". Each becomes an edge (message -> person) with the sentence as
evidence, so a historian can see the words the edge rests on.
"""

from __future__ import annotations

import re

from spacy.tokens import Doc

from .cleantext import CleanText

_VERBS = r"(?:reach(?:ed|es)?|sent|send|deliver(?:ed|s)?|transmit(?:ted|s)?|convey(?:ed|s)?|forward(?:ed|s)?|hand(?:ed|s)?|brought|bring|pass(?:ed|es)?|receiv(?:ed|e)|present(?:ed|s)?)"
_THROUGH_BEFORE = re.compile(
    r"\b(?:through|via|by)\s+(?:the\s+(?:good\s+)?(?:courtesy|offices|hands?)\s+of\s+)?"
    r"(?:(?:Mr\.?|Sir|Lord|General|Gen\.|Admiral|Ambassador|Marshal|M\.|Field\s+Marshal|Lieutenant-General|Major-General)\s+)?$"
)
_HANDS_AFTER = re.compile(r"^\s+(?:has\s+|had\s+)?(handed|delivered|transmitted|conveyed|passed|presented)\b")
_TO_AFTER = re.compile(r"^\s+(?:over\s+)?to\s+(?:(?:Mr\.?|Sir|Lord|General|Marshal|M\.)\s+)?$")


def find_deliveries(doc: Doc, ct: CleanText, message: str) -> list[dict]:
    people = [s for s in doc.spans.get("mentions", []) if s._.mention_type == "PERSON" and s._.link and s._.link.entity]
    if not people:
        return []
    out = []
    for sent in doc.sents:
        in_sent = [p for p in people if p.start >= sent.start and p.end <= sent.end]
        if not in_sent or not re.search(rf"\b{_VERBS}\b", sent.text, re.I):
            continue
        for i, p in enumerate(in_sent):
            before = doc.text[sent.start_char : p.start_char]
            after = doc.text[p.end_char : sent.end_char]
            to = None
            verb = None
            if _THROUGH_BEFORE.search(before) and re.search(rf"\b{_VERBS}\b", sent.text, re.I):
                verb = "through"
            else:
                m = _HANDS_AFTER.match(after)
                if m:
                    verb = m.group(1)
                    for q in in_sent[i + 1 :]:
                        between = doc.text[p.end_char + m.end() : q.start_char]
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
