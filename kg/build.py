"""The build: corpus -> messages -> spaCy mentions -> links -> records, one source document at a time.

Each document's result is a plain, JSON-serialisable `DocResult`, cached under a key made of the
document's content and the pipeline version (model, authority, code), so an unchanged document is
never parsed again and a rebuild after one edit only parses that one file.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

from spacy.language import Language

from . import __version__
from .authority import Authority
from .cleantext import clean
from .corpus import Source
from .doctext import KEY as DOC_TEXT
from .errors import SourceError
from .linker import nil_iri
from .messages import Message, split
from .namespaces import file_part
from .relations import find_deliveries

# documents' boilerplate the guidelines exclude from annotation (citation blocks, archive stamps, URLs)
_SKIP_BLOCK = re.compile(
    r"(?ms)^Citation:\s*\n.*?(?=^Summary:)|https?://\S+|<https?://[^>]+>"
    # archive apparatus of the Wilson Center scans: content lists, container stamps, declassification notes
    r"|^(?:Original Scan|Container \d+|Diversion of the Property|Reproduced from the Collections)[^\n]*$"
)


@dataclass
class MentionRecord:
    source: str
    start: int
    end: int
    text: str
    type: str
    message: str
    entity: str | None
    label: str | None
    wikidata: str | None
    wikipedia: str | None
    score: float | None
    reasons: list[str] = field(default_factory=list)
    alias: str | None = None
    title: str | None = None
    nil: bool = False
    office: str | None = None
    candidates: list = field(default_factory=list)


@dataclass
class MessageRecord:
    id: str
    source: str
    start: int
    end: int
    header: str
    sender: str | None
    recipients: list[str]
    date: str | None
    date_sent: str | None
    approx_date: str | None
    seq: int
    notes: list[str]
    citations: list[dict]
    date_span: list[int] | None = None
    sent_span: list[int] | None = None
    label: str = ""


@dataclass
class DocResult:
    source: str
    sha256: str
    messages: list[MessageRecord]
    mentions: list[MentionRecord]
    deliveries: list[dict]
    nil_entities: dict[str, dict]

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> DocResult:
        d = json.loads(text)
        return cls(
            source=d["source"],
            sha256=d["sha256"],
            messages=[MessageRecord(**m) for m in d["messages"]],
            mentions=[MentionRecord(**m) for m in d["mentions"]],
            deliveries=d["deliveries"],
            nil_entities=d["nil_entities"],
        )

    def digest(self) -> DocDigest:
        linked = [m.entity for m in self.mentions if m.entity]
        return DocDigest(self.source, self.sha256, self.messages, len(self.mentions),
                         sum(1 for e in linked if "/unreviewed/" not in e), sorted(set(linked)), self.nil_entities)


@dataclass
class DocDigest:
    """What a build needs of a document besides its graph: its messages (which citations resolve
    against), counts for the summary, the entities it links and mints. A document taken from the cache
    is read as its digest, a tenth of the result's size; the whole result is read only when its graph
    has to be made again."""

    source: str
    sha256: str
    messages: list[MessageRecord]
    mention_count: int
    linked_count: int
    entities: list[str]
    nil_entities: dict[str, dict]

    def digest(self) -> DocDigest:
        return self

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> DocDigest:
        d = json.loads(text)
        return cls(d["source"], d["sha256"], [MessageRecord(**m) for m in d["messages"]], d["mention_count"],
                   d["linked_count"], d["entities"], d["nil_entities"])


def pipeline_version(nlp: Language, authority: Authority) -> str:
    """What, besides a document's own text, decides its result: code, model, authority data."""
    h = hashlib.sha256()
    h.update(__version__.encode())
    code_dir = Path(__file__).parent
    for f in sorted(code_dir.glob("*.py")):
        h.update(f.read_bytes())
    h.update(f"{nlp.meta.get('name')}-{nlp.meta.get('version')}".encode())
    for f in authority.files:
        h.update(f.read_bytes())
    linking = authority.files[0].parent.parent if authority.files else None
    if linking:
        for name in ("roles.tsv", "titles.txt", "patterns.jsonl"):
            p = linking / name
            if p.exists():
                h.update(p.read_bytes())
    return h.hexdigest()[:16]


def message_iri_part(msg: Message, authority: Authority, used: set[str]) -> str:
    """A readable, stable local name: date, sender and first recipient ("1942-03-29-stalin-to-churchill")."""

    def short(name: str | None) -> str:
        if not name:
            return "unknown"
        e = authority.find_by_label(name)
        label = e.label if e else name
        return re.sub(r"[^a-z0-9]+", "-", label.split()[-1].lower()).strip("-")

    when = msg.date or msg.date_sent
    stem = when.isoformat() if when else f"undated-{file_part(msg.source[:3])}-{msg.start}"
    base = f"{stem}-{short(msg.sender)}-to-{short(msg.recipients[0] if msg.recipients else None)}"
    local = base
    n = 2
    while local in used:
        local = f"{base}-{n}"
        n += 1
    used.add(local)
    return local


def _surname(authority: Authority, name: str | None) -> str:
    if not name:
        return "unknown"
    e = authority.find_by_label(name)
    label = e.label if e else name
    return label if (e and e.type != "PERSON") or "," in label else label.split()[-1]


def resolve_name(authority: Authority, name: str, kind: str = "PERSON") -> tuple[str, str | None, str | None, str | None]:
    """Sender/recipient names of the manifest and the headers -> (IRI, label, wikipedia, wikidata)."""
    e = authority.find_by_label(name)
    if e is None:
        return nil_iri(kind, name), name, None, None
    return e.iri, e.label, e.wikipedia, e.wikidata


def process_source(
    source: Source, nlp: Language, authority: Authority, message_iri: callable, used_iris: set[str]
) -> DocResult:
    """Build one document. Raises SourceError with the file and the problem if it cannot be built."""
    text = source.read()
    messages = split(source, text)
    if not messages:
        raise SourceError(source.path, "no recognisable message in the file")
    records: list[MessageRecord] = []
    mentions: list[MentionRecord] = []
    deliveries: list[dict] = []
    nil_entities: dict[str, dict] = {}
    docs_in = []
    for msg in messages:
        local = message_iri_part(msg, authority, used_iris)
        if source.kind == "document":
            local = f"{local}-{file_part(source.file[:3])}"  # a document may repeat a message of the book
        iri = message_iri(local)
        sender = resolve_name(authority, msg.sender, "PERSON" if source.kind == "book" else "ORG")[0] if msg.sender else None
        recipients = [resolve_name(authority, r)[0] for r in msg.recipients]
        when = msg.date or msg.date_sent
        label = (f"{_surname(authority, msg.sender)} to {' and '.join(_surname(authority, r) for r in msg.recipients) or 'the file'}, "
                 f"{f'{when.day} {when:%B %Y}' if when else 'undated'}")
        records.append(
            MessageRecord(
                id=iri,
                source=source.file,
                start=msg.start,
                end=msg.end,
                header=msg.header,
                sender=sender,
                recipients=recipients,
                date=msg.date.isoformat() if msg.date else None,
                date_sent=msg.date_sent.isoformat() if msg.date_sent else None,
                approx_date=msg.approx_date.isoformat() if msg.approx_date else None,
                seq=msg.seq,
                notes=msg.notes,
                citations=[
                    {"start": c.start, "end": c.end, "text": c.text, "date": c.cited_date.isoformat(), "own": c.own}
                    for c in msg.citations
                ],
                date_span=list(msg.date_span) if msg.date_span else None,
                sent_span=list(msg.sent_span) if msg.sent_span else None,
                label=label,
            )
        )
        raw = text[msg.start : msg.end]
        masked = _SKIP_BLOCK.sub(lambda m: " " * len(m.group(0)), raw) if source.kind == "document" else raw
        ct = clean(masked, msg.start)
        doc = nlp.make_doc(ct.text)
        doc.user_data[DOC_TEXT] = ct.text  # what kg.doctext.doc_text would join again from the tokens
        doc._.context = {"date": msg.when, "sender": sender, "recipients": recipients, "message": iri}
        docs_in.append((doc, ct, records[-1]))

    for (doc, ct, rec) in _pipe(nlp, docs_in):
        for span in doc.spans.get("mentions", []):
            start, end = ct.to_raw(span.start_char, span.end_char)
            link = span._.link
            kind = span._.mention_type
            entity = authority.entities.get(link.entity) if link and link.entity else None
            if entity is None and link is not None and link.nil and kind != "ROLE":
                nil_entities.setdefault(link.entity, {"label": span.text, "type": kind})
            if (entity is not None and kind not in ("ROLE", "OPERATION") and entity.type != kind
                    and kind in ("PERSON", "PLACE", "ORG", "EVENT") and {kind, entity.type} != {"EVENT", "OPERATION"}):
                # the authority knows the type better than the model; but an operation named by a
                # description ("the invasion of Europe") is an EVENT mention: only code names and
                # "Operation X" are OPERATION mentions (annotation guidelines)
                kind = entity.type
            mentions.append(
                MentionRecord(
                    source=source.file,
                    start=start,
                    end=end,
                    text=text[start:end],
                    type=kind,
                    message=rec.id,
                    entity=link.entity if link else None,
                    label=entity.label if entity else (span.text if link and link.entity else None),
                    wikidata=entity.wikidata if entity else None,
                    wikipedia=entity.wikipedia if entity else None,
                    score=link.score if link else None,
                    reasons=link.reasons if link else [],
                    alias=link.alias if link else None,
                    title=span._.title,
                    nil=bool(link and link.nil),
                    office=link.office if link else None,
                    candidates=[list(c) for c in (link.candidates if link else [])],
                )
            )
        for d in find_deliveries(doc, ct, rec.id):
            deliveries.append(d)
    mentions.sort(key=lambda m: (m.start, m.end))
    return DocResult(source.file, source.sha256(), records, mentions, deliveries, nil_entities)


def _pipe(nlp: Language, items: list) -> Iterator[tuple]:
    docs = nlp.pipe((d for d, _, _ in items), batch_size=32)
    for doc, (_, ct, rec) in zip(docs, items):
        yield doc, ct, rec


def iter_dates(values: Iterable[str | None]) -> list[date]:
    return [date.fromisoformat(v) for v in values if v]
