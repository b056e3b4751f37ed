"""The wartime linker: a spaCy component that resolves each mention to an authority entity, with a score
and the reasons a historian can check.

Add it to any pipeline that has entities: `nlp.add_pipe("wartime_linker")` (registered by entry point,
`spacy_factories`). It reads `doc.spans["mentions"]` when the `wartime_mentions` component made them,
otherwise `doc.ents`, and the message context in `doc._.context` (date, sender, recipients), and writes
`span._.link` on each mention.

Evidence, in order: the alias (exact, or fuzzy for OCR damage), the entity's type, whether the person
was alive / the office held on the message's date, title cues ("Field Marshal Alexander"), what else the
message mentions (`wkg:associatedWith`), and one sense per message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from rapidfuzz import fuzz, process
from spacy.language import Language
from spacy.tokens import Doc, Span

from .authority import ALIAS_WEIGHT, Authority, Entity, RoleRule, load_authority, normalise
from .doctext import doc_text
from .namespaces import ENT

LINK_THRESHOLD = 0.5
_CONFERENCE_NOUNS = {"agreement", "agreements", "decisions", "decision", "stand", "standpoint", "talks", "meeting", "declaration", "communiqué"}
# "what we agreed on in Tehran", "the decision taken in the Crimea": with one of these words just before,
# "in <place>" names the conference held there, as "at <place>" does. Without them ("a service in Tehran",
# "the meeting will be held in Moscow") it is the place.
_AGREED_WORDS = {"agreed", "consented", "decided", "promised", "reached", "taken", "adopted", "settled", "undertaken",
                 "decision", "decisions"}
FUZZY_CUTOFF = 86.0
COMPATIBLE = {
    "PERSON": {"PERSON"},
    "PLACE": {"PLACE"},
    "ORG": {"ORG"},
    "EVENT": {"EVENT", "OPERATION"},
    "OPERATION": {"OPERATION", "EVENT"},
}

if not Span.has_extension("link"):
    Span.set_extension("link", default=None)
if not Doc.has_extension("context"):
    Doc.set_extension("context", default=None)


@dataclass
class Link:
    """Why a mention points where it does."""

    entity: str | None
    score: float | None
    reasons: list[str] = field(default_factory=list)
    candidates: list[tuple[str, float]] = field(default_factory=list)
    nil: bool = False
    alias: str | None = None
    office: str | None = None  # for ROLE mentions: the tenure that decided it


@dataclass
class _Candidate:
    entity: Entity
    score: float
    reasons: list[str]
    alias: str


def nil_iri(kind: str, text: str) -> str:
    """A stable IRI for a name the authority does not know: same name and type, same entity."""
    key = re.sub(r"[^a-z0-9]+", "-", normalise(text)).strip("-") or "unnamed"
    return str(ENT[f"unreviewed/{kind.lower()}/{key}"])


@Language.factory("wartime_linker", default_config={"linking_dir": "", "threshold": LINK_THRESHOLD})
def make_linker(nlp: Language, name: str, linking_dir: str, threshold: float) -> WartimeLinker:
    return WartimeLinker(Path(linking_dir) if linking_dir else None, threshold)


class WartimeLinker:
    def __init__(self, linking_dir: Path | None, threshold: float = LINK_THRESHOLD):
        self._dir = linking_dir
        self._authority: Authority | None = None
        self._titles: list[str] | None = None
        self.threshold = threshold

    @property
    def authority(self) -> Authority:
        if self._authority is None:
            from .extract import LINKING_DIR

            self._authority = load_authority(self._dir or LINKING_DIR)
        return self._authority

    @authority.setter
    def authority(self, value: Authority) -> None:
        self._authority = value

    # -- the component -------------------------------------------------------------------------------
    def __call__(self, doc: Doc) -> Doc:
        ctx = doc._.context or {}
        day: date | None = ctx.get("date")
        mentions = list(doc.spans["mentions"]) if "mentions" in doc.spans else list(doc.ents)
        text = doc_text(doc)
        candidates: list[list[_Candidate]] = []
        conference_end = -1  # token end of the last place read as a conference ("at Moscow and Tehran")
        for span in mentions:
            kind = span._.mention_type or span.label_
            if kind == "ROLE":
                candidates.append([])
                continue
            title = span._.title if span._.title is not None else self.title_before(span, text)
            cands = self.candidates(span.text, kind, title, day)
            conference = self._conference_metonymy(span, cands, day, conference_end) if kind == "PLACE" else None
            if conference is not None:
                span._.mention_type = "EVENT"
                cands = [conference]
                conference_end = span.end
            candidates.append(cands)
        # context: entities already certain in this message raise their associates
        certain = {c[0].entity.iri for c in candidates if len(c) == 1 and c[0].score >= 0.8}
        certain |= {s._.link.entity for s in mentions if s._.link and s._.link.entity}
        for cands in candidates:
            for c in cands:
                shared = c.entity.associated & certain
                if shared:
                    bonus = min(0.2, 0.1 * len(shared))
                    c.score += bonus
                    c.reasons.append(
                        "mentioned with " + ", ".join(sorted(self._label(i) for i in shared)) + f" (+{bonus:.2f})"
                    )
        # one sense per message: the same name gets the entity its best-evidenced occurrence got
        best_by_key: dict[str, _Candidate] = {}
        for span, cands in zip(mentions, candidates):
            if cands:
                top = max(cands, key=lambda c: c.score)
                key = normalise(span.text)
                if key not in best_by_key or top.score > best_by_key[key].score:
                    best_by_key[key] = top
        # a surname after the full name in the same message is that person
        full_names = {c.entity.iri for cands in candidates for c in cands[:1] if len(c.alias.split()) > 1}
        for span, cands in zip(mentions, candidates):
            kind = span._.mention_type or span.label_
            if kind == "ROLE":
                continue
            key = normalise(span.text)
            for c in cands:
                if c.entity.iri in full_names and len(span.text.split()) == 1 and len(cands) > 1:
                    c.score += 0.1
                    c.reasons.append("the full name stands earlier in the message (+0.10)")
            best = best_by_key.get(key)
            if best is not None:
                for c in cands:
                    if c.entity.iri == best.entity.iri and c is not best and c.score < best.score:
                        c.reasons.append("one sense per message: as the best-evidenced mention of this name")
                        c.score = best.score
            span._.link = self.decide(span.text, kind, cands)
        # roles last: "the Marshal" may refer back to "Marshal Tito" earlier in the message
        for span in mentions:
            if (span._.mention_type or span.label_) == "ROLE":
                span._.link = self.link_role(span, ctx, mentions)
        return doc

    @property
    def titles(self) -> list[str]:
        if self._titles is None:
            from .extract import LINKING_DIR, load_titles

            self._titles = load_titles(self._dir or LINKING_DIR)
        return self._titles

    def title_before(self, span: Span, text: str | None = None) -> str | None:
        """The title written before a name, for pipelines without our `wartime_mentions` component."""
        if (span._.mention_type or span.label_) != "PERSON":
            return None
        from .extract import title_at_end

        text = doc_text(span.doc) if text is None else text
        return title_at_end(text[max(0, span.start_char - 40) : span.start_char], self.titles)

    # -- candidates ----------------------------------------------------------------------------------
    def candidates(self, text: str, kind: str, title: str | None, day: date | None) -> list[_Candidate]:
        a = self.authority
        key = normalise(text)
        found: list[tuple[Entity, float, str, str]] = []
        for alias in a.alias_index.get(key, []):
            found.append((a.entities[alias.iri], ALIAS_WEIGHT[alias.kind], alias.text, f"{alias.kind} label"))
        if not found and len(key) >= 4:
            for match, ratio, _ in process.extract(key, a.alias_keys, scorer=fuzz.ratio, limit=5, score_cutoff=FUZZY_CUTOFF):
                for alias in a.alias_index[match]:
                    found.append((a.entities[alias.iri], 0.85 * ratio / 100, alias.text, f"fuzzy match {ratio:.0f}% (OCR)"))
        best: dict[str, _Candidate] = {}
        for entity, base, alias_text, how in found:
            reasons = [f'alias "{alias_text}" ({how}, {base:.2f})']
            score = base
            if kind in COMPATIBLE and entity.type not in COMPATIBLE[kind]:
                score -= 0.3
                reasons.append(f"type {entity.type} where the text suggests {kind} (-0.30)")
            score += self._time_evidence(entity, day, reasons)
            score += self._title_evidence(entity, title, reasons)
            if entity.iri not in best or score > best[entity.iri].score:
                best[entity.iri] = _Candidate(entity, score, reasons, alias_text)
        cands = sorted(best.values(), key=lambda c: (-c.score, c.entity.iri))
        events = [c for c in cands if c.entity.type in ("EVENT", "OPERATION") and c.entity.start]
        if len(events) > 1 and day is not None:
            # "the Moscow Conference" of a 1942 message is the one held last before it (or about to be held)
            started = [c for c in events if c.entity.start <= day + timedelta(days=30)]
            if started:
                latest = max(started, key=lambda c: c.entity.start)
                latest.score += 0.1
                latest.reasons.append(f"the latest such event by the message's date ({latest.entity.start}) (+0.10)")
        if len(cands) > 1:
            # several people share the name: the one holding an office on the date is the usual subject
            for c in cands:
                held = self.authority.offices_of(c.entity.iri, day) if day else []
                if held:
                    post = self.authority.posts.get(held[0].post)
                    c.score += 0.05
                    c.reasons.append(f"held office on the message's date: {post.label if post else held[0].post} (+0.05)")
        return sorted(cands, key=lambda c: (-c.score, c.entity.iri))

    def _conference_metonymy(
        self, span: Span, cands: list[_Candidate], day: date | None, conference_end: int = -1
    ) -> _Candidate | None:
        """"the decisions reached at Tehran", "the Tehran agreement": the place stands for the conference held
        there. Only after "at"/"since", after "in" with a word of agreeing just before it ("as agreed in
        Tehran"), before a word such as "agreement" or "decisions", or joined by "and"/"or" to a place just
        read so ("reached at Moscow and Tehran"); and only for a conference at that place that had begun by
        the message's date. `conference_end`: the token end of the last place read as a conference."""
        if not cands or day is None or span.start == 0:
            return None
        doc = span.doc
        i = span.start - 1
        if doc[i].lower_ == "the" and i > 0:  # "in the Crimea"
            i -= 1
        before = doc[i].lower_
        after = doc[span.end].lower_ if span.end < len(doc) else ""
        agreed = before == "in" and any(t.lower_ in _AGREED_WORDS for t in doc[max(0, i - 3) : i])
        coordinated = before in ("and", "or") and i == conference_end
        if before not in ("at", "since") and after not in _CONFERENCE_NOUNS and not agreed and not coordinated:
            return None
        place = cands[0].entity.iri
        held = [
            e for e in self.authority.entities.values()
            if e.type == "EVENT" and place in e.associated and "conference" in e.label.lower() and e.start and e.start <= day
        ]
        if not held:
            return None
        conf = max(held, key=lambda e: e.start)
        return _Candidate(
            conf,
            0.8,
            [f'"{before} {span.text} {after}": the place stands for the {conf.label}, held there from {conf.start}, '
             f"before the message ({day})"],
            span.text,
        )

    def _time_evidence(self, e: Entity, day: date | None, reasons: list[str]) -> float:
        if day is None:
            return 0.0
        if e.born and day < e.born:
            reasons.append(f"not yet born on {day} (-1.00)")
            return -1.0
        if e.type == "PERSON" and e.died and day > e.died:
            reasons.append(f"died {e.died}, before the message ({day}) (-0.15)")
            return -0.15
        if e.type in ("ORG", "PLACE") and e.start and day < e.start:
            reasons.append(f"did not exist yet on {day} (-0.40)")
            return -0.4
        return 0.0

    def _title_evidence(self, e: Entity, title: str | None, reasons: list[str]) -> float:
        if not title:
            return 0.0
        t = normalise(title)
        cues = {normalise(c) for c in e.title_cues}
        if t in cues:
            reasons.append(f'title cue "{title}" (+0.20)')
            return 0.2
        if cues and t not in {"mr", "m", "sir", "lord"}:
            reasons.append(f'title "{title}" is not one of this person\'s ({", ".join(sorted(e.title_cues))}) (-0.10)')
            return -0.1
        return 0.0

    def decide(self, text: str, kind: str, cands: list[_Candidate]) -> Link:
        ranked = [(c.entity.iri, round(c.score, 3)) for c in cands[:5]]
        if cands and cands[0].score >= self.threshold:
            top = cands[0]
            reasons = list(top.reasons)
            if len(cands) > 1:
                margin = top.score - cands[1].score
                reasons.append(f"preferred to {self._label(cands[1].entity.iri)} by {margin:.2f}")
            return Link(top.entity.iri, round(min(1.0, max(0.0, top.score)), 3), reasons, ranked, alias=top.alias)
        reasons = ["no authority entity matches this name"] if not cands else [
            f"best candidate {self._label(cands[0].entity.iri)} scored {cands[0].score:.2f}, under {self.threshold}"
        ]
        reasons.append("new entity, not reviewed: same name and type elsewhere is the same entity")
        return Link(nil_iri(kind, text), None, reasons, ranked, nil=True)

    # -- roles ---------------------------------------------------------------------------------------
    def link_role(self, span: Span, ctx: dict, mentions: list[Span] = ()) -> Link:
        a = self.authority
        doc = span.doc
        day: date | None = ctx.get("date")
        det = doc[span.start - 1].lower_.rstrip(".") if span.start > 0 else ""
        phrase = normalise(span.text)
        rules = [r for r in a.roles if normalise(r.phrase) == phrase]
        rules_det = [
            r for r in rules if det in [d.lower().rstrip(".") for d in r.determiners] or "-" in r.determiners
        ] or rules
        if det != "mr":
            antecedent = self._antecedent(span, phrase, mentions)
            if antecedent is not None:
                return antecedent
        for rule in rules_det:
            link = self._apply_role(rule, span, det, day, ctx)
            if link is not None:
                return link
        return Link(None, None, [f'role "{span.text}" with "{det}" before it matches no rule on {day}'], nil=True)

    def _antecedent(self, span: Span, phrase: str, mentions: list[Span]) -> Link | None:
        """'the Marshal' after 'Marshal Tito': the nearest earlier person written with that title."""
        for other in reversed([m for m in mentions if m.end <= span.start]):
            link = other._.link
            title = other._.title
            if (other._.mention_type == "PERSON" and title and normalise(title) == phrase and link is not None
                    and link.entity and not link.nil):
                return Link(
                    link.entity,
                    0.85,
                    [f'"{span.text}" refers back to "{title} {other.text}" earlier in the message ({self._label(link.entity)})'],
                    alias=other.text,
                )
        return None

    def _apply_role(self, rule: RoleRule, span: Span, det: str, day: date | None, ctx: dict) -> Link | None:
        a = self.authority
        reasons = [f'role phrase "{det} {span.text}" (linking/roles.tsv: {rule.post})']
        if rule.relative_to and rule.country != "*":
            party = (ctx.get("recipients") or [None])[0] if rule.relative_to == "recipient" else ctx.get("sender")
            country = a.country_of(party, day) if party else None
            if country is None or country.rsplit("/", 1)[-1] != rule.country.split(":", 1)[-1]:
                return None
            reasons.append(f"the {rule.relative_to} ({self._label(party)}) serves {self._label(country)}")
        if rule.post == "recipient":
            recips = ctx.get("recipients") or []
            if not recips:
                return None
            # of several recipients ("Mr President" in a joint message), the one who holds that office
            offices = {r.post for r in a.roles if normalise(r.phrase) == normalise(rule.phrase) and r.post.startswith("office:")}
            holding = [
                p for p in recips
                if any(str(ENT["office/" + o.split(":", 1)[1]]) == t.post for o in offices for t in a.offices_of(p, day))
            ]
            who = (holding or recips)[0]
            reasons.append(f"vocative: the message's recipient, {self._label(who)}")
            return Link(who, 0.95, reasons)
        if rule.post == "anaphora":
            return None  # only an antecedent in the message can resolve it
        if rule.post.startswith("ent:"):
            iri = str(ENT[rule.post.split(":", 1)[1]])
            if iri not in a.entities:
                return None
            return Link(iri, 0.9, reasons + [f"the phrase always denotes {self._label(iri)}"])
        post_iri = str(ENT["office/" + rule.post.split(":", 1)[1]])
        holders = a.holders(post_iri, day)
        if not holders:
            if day is None:
                reasons.append("the message is undated, so the office holder cannot be chosen")
            else:
                reasons.append(f"no holder of {post_iri} known on {day}")
            return Link(None, None, reasons, nil=True)
        t = holders[0]
        post = a.posts.get(post_iri)
        reasons.append(
            f"{self._label(t.person)} held {post.label if post else post_iri} from {t.start or '?'} to {t.end or 'after 1947'}, "
            f"which covers the message's date {day}"
        )
        score = 0.92 if len(holders) == 1 else 0.6
        return Link(t.person, score, reasons, [(h.person, score) for h in holders], office=t.iri)

    def _label(self, iri: str | None) -> str:
        if iri is None:
            return "?"
        e = self.authority.entities.get(iri)
        if e:
            return e.label
        p = self.authority.posts.get(iri)
        return p.label if p else iri.rsplit("/", 1)[-1]
