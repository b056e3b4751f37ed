"""Split each source into messages with sender, recipients, dates and exact character spans.

The book (kind "book") is an OCR'd collection of telegrams. Its two date conventions decide most of the
work: a "Sent on <date>" line stands above the header it belongs to, and a bare date line usually closes
the message above it but sometimes opens the one below (the 29 March 1942 message about Kerr). The
book's chronological order arbitrates: a written date later than the message's own sent date cannot be
its written date, so it moves down to the next message; a date far from its neighbours is a stray
fragment of another page and is ignored as a date.

Single documents (kind "document") are one message each; their metadata comes from the manifest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from .corpus import Source
from .errors import SourceError

MONTHS = {
    m: i
    for i, m in enumerate(
        "January February March April May June July August September October November December".split(), start=1
    )
}
_MONTH = r"(?P<month>January|February|March|April|May|June|July|August|September|October|November|December)"
_DATE = _MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>19[3-5]\d)"
DATE_LINE = re.compile(r"^\W*(?:[A-Z][\w\"',. ]{0,40},\s+)?" + _DATE + r"\.?\W*$")
SENT_LINE = re.compile(r"^\W*Sent\s+on\s+" + _DATE + r"\.?\W*$")
PAGE_LINE = re.compile(r"^\s*\d{1,3}\s*$")
SIGNATURE = re.compile(r"^\W*(?:J\.\s*(?:V\.\s*)?)?STALIN\W*$")

# Header lines: mostly capitals, naming an addressee or the sender.
_HEADER_WORDS = re.compile(
    r"\b(TO|FROM|FOR|PERSONAL|SECRET|MESSAGE|PRESIDENT|PRIME MINISTER|PREMIER|CHURCHILL|ROOSEVELT|TRUMAN|"
    r"ATTLEE|STALIN|AMERICA|GREAT BRITAIN|COMMANDER|GENERALISSIMO|MARSHAL)\b"
)
RECIPIENT_NAMES = {
    "CHURCHILL": "Winston Churchill",
    "ROOSEVELT": "Franklin D. Roosevelt",
    "TRUMAN": "Harry S. Truman",
    "ATTLEE": "Clement Attlee",
}
# The heads of government an untitled "PRIME MINISTER" or "PRESIDENT" in a header denotes, by date.
ROLE_HOLDERS = {
    "PRIME MINISTER": [(date(1940, 5, 10), "Winston Churchill"), (date(1945, 7, 26), "Clement Attlee")],
    "PRESIDENT": [(date(1933, 3, 4), "Franklin D. Roosevelt"), (date(1945, 4, 12), "Harry S. Truman")],
}

CITED = re.compile(
    r"(?P<phrase>(?:(?P<whose>your|yours|my|our|the)\s+(?:\w+\s+){0,2}?"
    r"(?:messages?|letters?|telegrams?|communications?|memorandum|note|reply|cables?)?\s*(?:of|dated)"
    r"|(?:received|reached\s+me)\s+on"
    r"|yours\s+of)\s+"
    + _MONTH
    + r"\s+(?P<day>\d{1,2})(?:\s*(?:and|,)\s*\d{1,2})*(?:,?\s+(?P<year>19[3-5]\d))?)",
    re.IGNORECASE,
)


def parse_date(m: re.Match) -> date | None:
    try:
        return date(int(m.group("year")), MONTHS[m.group("month").capitalize()], int(m.group("day")))
    except (ValueError, KeyError, TypeError):
        return None


@dataclass
class Citation:
    """A message cited by date in the text ("your message of March 12")."""

    start: int
    end: int
    text: str
    cited_date: date
    own: bool  # "my message": the writer's own earlier message; otherwise one from the correspondent


@dataclass
class Message:
    source: str
    start: int
    end: int
    header_start: int
    header_end: int
    header: str
    sender: str | None
    recipients: list[str]
    date: date | None = None  # the date the message bears (written)
    date_sent: date | None = None
    date_span: tuple[int, int] | None = None
    sent_span: tuple[int, int] | None = None
    seq: int = 0
    notes: list[str] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    approx_date: date | None = None  # for linking when undated: from the neighbours

    @property
    def when(self) -> date | None:
        """The date used to resolve offices and roles."""
        return self.date or self.date_sent or self.approx_date


@dataclass
class _Line:
    start: int
    end: int
    text: str
    kind: str  # blank, page, sent, date, header, signature, body


def _lines(text: str) -> list[_Line]:
    out = []
    pos = 0
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n")
        out.append(_Line(pos, pos + len(body), body, _classify(body)))
        pos += len(raw)
    return out


def _is_header(line: str) -> bool:
    s = line.replace("*", "").strip()
    letters = [c for c in s if c.isalpha()]
    if len(letters) < 5:
        return False
    upper = sum(1 for c in letters if c.isupper())
    if upper / len(letters) < 0.75:
        return False
    return bool(_HEADER_WORDS.search(s))


def _classify(line: str) -> str:
    if not line.strip():
        return "blank"
    if PAGE_LINE.match(line):
        return "page"
    if SENT_LINE.match(line):
        return "sent"
    if DATE_LINE.match(line) and len(line) < 70:
        return "date"
    if SIGNATURE.match(line):
        return "signature"
    if _is_header(line):
        return "header"
    if len(line.strip()) <= 2:
        return "stray"
    return "body"


def _header_recipients(header: str, when: date | None) -> list[str]:
    text = header.replace("*", " ").upper()
    found: list[tuple[int, str]] = []
    for key, name in RECIPIENT_NAMES.items():
        for m in re.finditer(rf"\b{key}\b", text):
            found.append((m.start(), name))
    if not found and when is not None:
        for role, holders in ROLE_HOLDERS.items():
            if re.search(rf"\b{role}\b", text):
                holder = [n for since, n in holders if since <= when]
                if holder:
                    found.append((text.index(role), holder[-1]))
    names: list[str] = []
    for _, name in sorted(found):
        if name not in names:
            names.append(name)
    return names


def split_book(source: Source, text: str) -> list[Message]:
    lines = _lines(text)
    # 1. header blocks: runs of header lines, blank lines allowed between them.
    blocks: list[tuple[int, int]] = []  # indices into lines [first, last]
    i = 0
    while i < len(lines):
        if lines[i].kind != "header":
            i += 1
            continue
        j = i
        k = i + 1
        while k < len(lines) and lines[k].kind in ("header", "blank"):
            if lines[k].kind == "header":
                j = k
            k += 1
        header_text = "\n".join(line.text for line in lines[i : j + 1])
        if re.search(r"\b(TO|FOR)\b", header_text.replace("*", " ")) and any(
            re.search(rf"\b{k}\b", header_text.upper()) for k in (*RECIPIENT_NAMES, *ROLE_HOLDERS)
        ):
            blocks.append((i, j))
        i = j + 1
    if not blocks:
        raise SourceError(source.path, "no message header found (expected lines such as 'J. V. STALIN TO W. CHURCHILL')")

    # 2. for each block, the preamble above it: Sent-on and date lines, pages, blanks, signatures, stray bits.
    messages: list[Message] = []
    pre_first: list[int] = []  # first line index of the preamble of block b
    for b, (first, _last) in enumerate(blocks):
        floor = blocks[b - 1][1] + 1 if b else 0
        k = first - 1
        while k >= floor and lines[k].kind in ("blank", "page", "sent", "date", "stray"):
            k -= 1
        pre_first.append(k + 1)

    for b, (first, last) in enumerate(blocks):
        header = "\n".join(line.text for line in lines[first : last + 1])
        # tail: from this block's end to the next block's preamble
        tail_end = pre_first[b + 1] if b + 1 < len(blocks) else len(lines)
        msg = Message(
            source=source.file,
            start=lines[first].start,
            end=lines[last].end,
            header_start=lines[first].start,
            header_end=lines[last].end,
            header=header,
            sender=source.sender,
            recipients=[],
            seq=b,
        )
        # content lines that follow the header up to the next preamble (inclusive of trailing dates/signatures)
        body_last = last
        for k in range(last + 1, tail_end):
            if lines[k].kind in ("body", "header", "signature", "stray", "date"):
                body_last = k
        msg.end = lines[body_last].end
        messages.append(msg)

    # 3. dates. Sent-on lines in a preamble belong to the header below them; date lines in a preamble
    # before any Sent-on close the message above; date lines inside a body (followed by a signature)
    # belong to that message.
    pending_dates: list[list[tuple[date, _Line]]] = [[] for _ in blocks]  # candidate written dates per message
    line_ending_at = {}
    for k, line in enumerate(lines):
        line_ending_at.setdefault(line.end, k)
    for b, (first, _last) in enumerate(blocks):
        seen_sent = False
        above: list[tuple[date, _Line]] = []
        for k in range(pre_first[b], first):
            line = lines[k]
            if line.kind == "sent":
                m = SENT_LINE.match(line.text)
                d = parse_date(m) if m else None
                if d:
                    messages[b].date_sent = d
                    messages[b].sent_span = (line.start, line.end)
                    messages[b].start = min(messages[b].start, line.start)
                    seen_sent = True
            elif line.kind == "date":
                m = DATE_LINE.match(line.text)
                d = parse_date(m) if m else None
                if d is None:
                    continue
                if seen_sent or b == 0:
                    pending_dates[b].append((d, line))  # below a Sent-on line: opens the message below
                else:
                    above.append((d, line))
        if len(above) >= 2:
            # two bare dates between messages: the first closes the message above, the last opens this one
            pending_dates[b].append(above.pop())
        if above:
            pending_dates[b - 1].extend(above)
        # dates inside this message's own body (e.g. "Berlin, July 29, 1945" above the signature)
        last_line = line_ending_at[messages[b].end]
        for k in range(blocks[b][1] + 1, last_line + 1):
            if lines[k].kind == "date":
                m = DATE_LINE.match(lines[k].text)
                d = parse_date(m) if m else None
                if d and all(line is not lines[k] for _, line in pending_dates[b]):
                    pending_dates[b].append((d, lines[k]))

    for b, msg in enumerate(messages):
        for d, line in pending_dates[b]:
            _offer_date(messages, b, d, line)
        first, last = blocks[b]
        # a date written on the header line itself ("May 4, 1943 PERSONAL AND SECRET MESSAGE")
        m = re.match(r"^\W*" + _DATE, lines[first].text)
        if m and msg.date is None and (d := parse_date(m)):
            msg.date = d
            msg.date_span = (lines[first].start, lines[first].start + m.end())
        # a "Sent on" line just below the header, above the body
        for k in range(last + 1, min(last + 6, len(lines))):
            if lines[k].kind == "body":
                break
            if lines[k].kind == "sent" and msg.date_sent is None:
                sm = SENT_LINE.match(lines[k].text)
                if sm and (d := parse_date(sm)):
                    msg.date_sent = d
                    msg.sent_span = (lines[k].start, lines[k].end)

    # 4. chronology: a date far from the neighbours' dates is a stray fragment's date, not this message's.
    _check_chronology(messages)
    for msg in messages:
        when = msg.when
        msg.recipients = _header_recipients(msg.header, when)
        if not msg.recipients:
            msg.notes.append("no recipient recognised in the header")
    _fill_approx_dates(messages)
    for msg in messages:
        if not msg.recipients:
            msg.recipients = _header_recipients(msg.header, msg.when)
    return messages


def _offer_date(messages: list[Message], b: int, d: date, line: _Line) -> None:
    """Give written date `d` to message b unless the book's order says it belongs to the next message."""
    msg = messages[b]
    nxt = messages[b + 1] if b + 1 < len(messages) else None
    belongs_below = line.start < msg.header_start  # a date line above this message's header
    if not belongs_below and msg.date_sent and d > msg.date_sent and nxt is not None:
        # written after it was sent: impossible, so the date opens the next message (29 March 1942)
        if nxt.date is None and (nxt.date_sent is None or d <= nxt.date_sent):
            nxt.date = d
            nxt.date_span = (line.start, line.end)
            nxt.start = min(nxt.start, line.start)
            nxt.notes.append(f"date line above the header; it cannot close the message above (sent {msg.date_sent})")
            # the message above ends before this line
            msg.notes.append("a later date line below belongs to the next message")
            return
    if msg.date is None:
        msg.date = d
        msg.date_span = (line.start, line.end)
        if line.start < msg.start:
            msg.start = line.start
        if line.end > msg.end:
            msg.end = line.end
    else:
        msg.notes.append(f"second date line {d.isoformat()} ignored")


def _check_chronology(messages: list[Message], window: int = 4, max_days: int = 120) -> None:
    for b, msg in enumerate(messages):
        if msg.date is None:
            continue
        neighbours = [
            m.date_sent or m.date
            for m in messages[max(0, b - window) : b] + messages[b + 1 : b + 1 + window]
            if (m.date_sent or m.date)
        ]
        if len(neighbours) < 3:
            continue
        neighbours.sort()
        median = neighbours[len(neighbours) // 2]
        if abs((msg.date - median).days) > max_days:
            names = {n for k, n in RECIPIENT_NAMES.items() if k in msg.header.upper()}
            # a Truman header dated 1945 among 1942 messages: a stray page, but its date is its own
            if names and msg.date >= date(1945, 4, 12) and "Harry S. Truman" in names:
                msg.notes.append("out of sequence: a stray page of 1945 among earlier messages")
                continue
            msg.notes.append(f"date {msg.date.isoformat()} is far from its neighbours ({median.isoformat()}): stray fragment")
            msg.date = None
            msg.date_span = None


def _fill_approx_dates(messages: list[Message]) -> None:
    known = [(i, m.date or m.date_sent) for i, m in enumerate(messages) if (m.date or m.date_sent)]
    for i, msg in enumerate(messages):
        if msg.date or msg.date_sent:
            continue
        before = [d for j, d in known if j < i]
        after = [d for j, d in known if j > i]
        if before and after:
            lo, hi = before[-1], after[0]
            msg.approx_date = lo + timedelta(days=max(0, (hi - lo).days // 2)) if hi >= lo else lo
        elif before:
            msg.approx_date = before[-1]
        elif after:
            msg.approx_date = after[0]


def find_citations(text: str, base: int, when: date | None) -> list[Citation]:
    """Messages cited by date. The year, when not written, is the latest one not after the message."""
    out = []
    for m in CITED.finditer(text):
        month = MONTHS[m.group("month").capitalize()]
        day = int(m.group("day"))
        if m.group("year"):
            year = int(m.group("year"))
        elif when is not None:
            year = when.year if (month, day) <= (when.month, when.day) else when.year - 1
        else:
            continue
        try:
            cited = date(year, month, day)
        except ValueError:
            continue
        whose = (m.group("whose") or "").lower()
        out.append(Citation(base + m.start(), base + m.end(), m.group(0), cited, own=whose in ("my", "our")))
    return out


def split_document(source: Source, text: str) -> list[Message]:
    """A single document is one message; its metadata is the manifest's, checked against its own text."""
    start = len(text) - len(text.lstrip())
    end = len(text.rstrip())
    msg = Message(
        source=source.file,
        start=start,
        end=end,
        header_start=start,
        header_end=start + len(text[start:].split("\n", 1)[0]),
        header=text[start:].split("\n", 1)[0],
        sender=source.sender,
        recipients=list(source.recipients),
    )
    if source.date and re.fullmatch(r"\d{4}-\d{2}-\d{2}", source.date):
        msg.date = date.fromisoformat(source.date)
    if source.date_note:
        msg.notes.append(source.date_note)
    return [msg]


def split(source: Source, text: str) -> list[Message]:
    messages = split_book(source, text) if source.kind == "book" else split_document(source, text)
    for msg in messages:
        msg.citations = find_citations(text[msg.header_end : msg.end], msg.header_end, msg.when)
    return messages
