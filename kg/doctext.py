"""The text of a spaCy Doc, joined once.

spaCy rebuilds `Doc.text` from the tokens on every access; three of our components read the whole
text of every message, which cost about 2% of a build. The text of a Doc never changes (retokenizing
merges or splits tokens, not characters), so it is kept in `Doc.user_data` after the first join, and
the builder puts it there when it makes the Doc from a string it already holds."""

from __future__ import annotations

from spacy.tokens import Doc

KEY = "wartime_kg.text"


def doc_text(doc: Doc) -> str:
    text = doc.user_data.get(KEY)
    if text is None:
        text = doc.user_data[KEY] = doc.text
    return text
