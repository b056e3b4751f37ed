"""OCR clean-up for the text the NLP sees, with every character mapped back to the original file.

The NLP must not see `**` markup, page numbers, glued footnote markers or words split across a page
break, yet every mention must point at the exact characters of the source file. So cleaning is a list
of edits (delete or replace a raw range) and `CleanText` keeps, for each clean character, the raw offset
it came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"

# (pattern, replacement) applied to the raw text; replacements must not be longer than what they replace
# needs, they are mapped to the start of the match.
_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\*\*"), ""),  # bold markup of the transcription
    (re.compile(r"\^\{[^}]*\}"), ""),  # ^{ss} superscript markup
    (re.compile(r"\\(?=[$&%#_])"), ""),  # \$ escapes
    (re.compile(f"[{SUPERSCRIPTS}]+"), ""),  # footnote markers glued to words: "Overlord"³⁶
    (re.compile(r"\[Page \d+\]\s?"), ""),  # FRUS page markers
    (re.compile(r"(?<=[a-z]{3}[a-z.”\"])\d{1,3}(?=[\s.,;:)\]]|$)", re.M), ""),  # FRUS footnote numbers: Conference76
    (re.compile(r"[□🛛\u25a1\ufffd]"), " "),  # boxes and replacement characters of the OCR
    (re.compile(r"(?m)^\s*\d{1,3}\s*$"), ""),  # page numbers alone on a line
    # a word hyphenated across a line or page break: "suc-\n\nceed" -> "succeed" (CRLF files too)
    (re.compile(r"(?<=[a-z])-\r?\n(?:\s*\n)*(?:\s*\d{1,3}\s*\n(?:\s*\n)*)?(?=[a-z])"), ""),
    # CRLF line ends (files from Windows): the model reads "\r\n" as a token of its own and tags the words
    # around it otherwise, so it sees LF; the offsets still count the "\r" (last: the rules above see it)
    (re.compile(r"\r(?=\n)"), ""),
]


@dataclass
class CleanText:
    """Clean text plus `raw[i]`: the raw offset (relative to `base`) of clean character i."""

    text: str
    raw_index: list[int]
    base: int
    raw_len: int

    def to_raw(self, start: int, end: int) -> tuple[int, int]:
        """Map a clean [start, end) span to absolute offsets in the source file."""
        if end <= start:
            raise ValueError("empty span")
        raw_start = self.raw_index[start]
        raw_end = self.raw_index[end - 1] + 1
        return self.base + raw_start, self.base + raw_end


def clean(raw: str, base: int = 0) -> CleanText:
    """Apply the OCR rules to `raw` (a slice of a file starting at absolute offset `base`)."""
    edits: list[tuple[int, int, str]] = []
    taken = [False] * (len(raw) + 1)
    for pattern, replacement in _RULES:
        for m in pattern.finditer(raw):
            if m.start() == m.end() or any(taken[m.start() : m.end()]):
                continue
            for i in range(m.start(), m.end()):
                taken[i] = True
            edits.append((m.start(), m.end(), replacement))
    edits.sort()
    out: list[str] = []
    index: list[int] = []
    pos = 0
    for start, end, replacement in edits:
        out.append(raw[pos:start])
        index.extend(range(pos, start))
        out.append(replacement)
        index.extend([start] * len(replacement))
        pos = end
    out.append(raw[pos:])
    index.extend(range(pos, len(raw)))
    return CleanText("".join(out), index, base, len(raw))
