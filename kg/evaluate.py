"""`kg evaluate`: score the built graph against hand-annotated gold (../shared/annotation-guidelines.md).

Mentions are scored inside the gold messages only (the gold annotates whole messages, not the corpus):
strict (same span, same type) and overlap (overlapping spans, same type, one-to-one) P/R/F1 per type.
Linking is scored as linked-mention F1 over PERSON, ROLE, PLACE, EVENT and OPERATION: a prediction is
right when its span matches (exact, or overlapping) and it points at the same Wikipedia article, or both
sides say the entity has none. Messages: sender, recipients and date, each and all together.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pyoxigraph as ox

from .exports import iter_mentions, iter_messages

TYPES = ["PERSON", "ROLE", "PLACE", "EVENT", "OPERATION", "ORG"]
LINK_TYPES = {"PERSON", "ROLE", "PLACE", "EVENT", "OPERATION"}


def load_gold(folder: Path) -> tuple[list[dict], list[dict]]:
    messages, mentions = [], []
    files = sorted(folder.glob("**/messages.jsonl"))
    if not files:
        raise FileNotFoundError(f"{folder}: no messages.jsonl below it")
    for f in files:
        messages += [json.loads(line) for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
        mf = f.with_name("mentions.jsonl")
        if mf.exists():
            part = [json.loads(line) for line in mf.read_text(encoding="utf-8").splitlines() if line.strip()]
            # message ids are per folder: qualify them
            for m in part:
                m["_msg"] = (f.parent.name, m["file"], m["message"])
            mentions += part
        for m in messages[-len(messages):]:
            m.setdefault("_folder", f.parent.name)
    return messages, mentions


def prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": round(p, 3), "r": round(r, 3), "f1": round(f, 3), "tp": tp, "fp": fp, "fn": fn}


def _overlaps(a: dict, b: dict) -> bool:
    return a["start"] < b["end"] and b["start"] < a["end"]


def _match(gold: list[dict], pred: list[dict], same) -> tuple[int, int, int, list, list]:
    """One-to-one matching; `same(g, p)` decides whether a pair may match. Exact spans are paired first."""
    used: set[int] = set()
    tp = 0
    missed = []
    by_file: dict[str, list[tuple[int, dict]]] = defaultdict(list)
    for i, p in enumerate(pred):
        by_file[p["source"]].append((i, p))
    pairs = []
    for g in sorted(gold, key=lambda x: (x["file"], x["start"])):
        cands = [(i, p) for i, p in by_file[g["file"]] if i not in used and same(g, p)]
        if not cands:
            missed.append(g)
            continue
        exact = [c for c in cands if c[1]["start"] == g["start"] and c[1]["end"] == g["end"]]
        i, p = (exact or cands)[0]
        used.add(i)
        tp += 1
        pairs.append((g, p))
    spurious = [p for i, p in enumerate(pred) if i not in used]
    return tp, len(spurious), len(missed), missed, spurious


def _link_key(wikipedia: str | None) -> str:
    return wikipedia if wikipedia else "NIL"


def evaluate(gold_dir: Path, store: ox.Store, seeds: Path | None = None) -> dict:
    gold_msgs, gold_mentions = load_gold(gold_dir)
    pred_mentions = list(iter_mentions(store))
    pred_msgs = list(iter_messages(store))
    spans = defaultdict(list)
    for m in gold_msgs:
        spans[m["file"]].append((m["start"], m["end"]))

    def inside(p: dict) -> bool:
        return any(s <= p["start"] and p["end"] <= e for s, e in spans.get(p["source"], []))

    pred_in = [p for p in pred_mentions if inside(p)]
    report: dict = {"gold": {"messages": len(gold_msgs), "mentions": len(gold_mentions)}, "mentions": {}, "linking": {}}
    for mode in ("strict", "overlap"):
        per = {}
        for t in TYPES + ["ALL"]:
            g = [x for x in gold_mentions if t == "ALL" or x["type"] == t]
            p = [x for x in pred_in if t == "ALL" or x["type"] == t]
            if mode == "strict":
                same = lambda a, b: a["start"] == b["start"] and a["end"] == b["end"] and a["type"] == b["type"]  # noqa: E731
            else:
                same = lambda a, b: _overlaps(a, b) and a["type"] == b["type"]  # noqa: E731
            tp, fp, fn, _, _ = _match(g, p, same)
            per[t] = prf(tp, fp, fn)
        report["mentions"][mode] = per
    # linking
    for mode in ("exact", "overlap"):
        per = {}
        for t in sorted(LINK_TYPES) + ["ALL"]:
            g = [x for x in gold_mentions if x["type"] in LINK_TYPES and (t == "ALL" or x["type"] == t)]
            p = [x for x in pred_in if x["type"] in LINK_TYPES and (t == "ALL" or x["type"] == t)]

            def same(a: dict, b: dict, mode=mode) -> bool:
                span_ok = (a["start"] == b["start"] and a["end"] == b["end"]) if mode == "exact" else _overlaps(a, b)
                return span_ok and _link_key(a.get("wikipedia")) == _link_key(b.get("wikipedia"))

            tp, fp, fn, missed, spurious = _match(g, p, same)
            per[t] = prf(tp, fp, fn)
            if t == "ALL" and mode == "overlap":
                report["linking_errors"] = {
                    "missed": [f'{x["file"][:3]}:{x["start"]} {x["type"]} "{x["surface"]}" -> {x.get("wikipedia")}' for x in missed],
                    "spurious": [f'{x["source"][:3]}:{x["start"]} {x["type"]} "{x["text"]}" -> {x.get("wikipedia")}' for x in spurious],
                }
        report["linking"][mode] = per
    report["messages"] = score_messages(gold_msgs, pred_msgs)
    return report


def score_messages(gold: list[dict], pred: list[dict]) -> dict:
    ok = {"sender": 0, "recipients": 0, "date": 0, "all": 0, "span": 0}
    errors = []
    for g in gold:
        cands = [p for p in pred if p["source"] == g["file"] and p["start"] < g["end"] and g["start"] < p["end"]]
        if not cands:
            errors.append(f'{g["file"][:3]}:{g["start"]} no predicted message')
            continue
        p = max(cands, key=lambda p: min(p["end"], g["end"]) - max(p["start"], g["start"]))
        sender = (p["sender"] or {}).get("wikipedia") == g.get("sender")
        recips = sorted(r.get("wikipedia") or "" for r in p["recipients"]) == sorted(g.get("recipients") or [])
        if g.get("date_kind") == "sent" and not g.get("sent"):
            date_ok = p["date_sent"] == g.get("date") or (p["date"] == g.get("date") and not p["date_sent"])
        else:
            date_ok = p["date"] == g.get("date") and (not g.get("sent") or p["date_sent"] == g.get("sent"))
        span_ok = abs(p["start"] - g["start"]) <= 2 and abs(p["end"] - g["end"]) <= 2
        ok["sender"] += sender
        ok["recipients"] += recips
        ok["date"] += date_ok
        ok["span"] += span_ok
        ok["all"] += sender and recips and date_ok
        if not (sender and recips and date_ok):
            errors.append(
                f'{g["file"][:3]}:{g["start"]} gold {g.get("sender")} -> {g.get("recipients")} {g.get("date")}/{g.get("sent")}; '
                f'pred {(p["sender"] or {}).get("wikipedia")} -> {[r.get("wikipedia") for r in p["recipients"]]} {p["date"]}/{p["date_sent"]}'
            )
    n = len(gold) or 1
    return {k: round(v / n, 3) for k, v in ok.items()} | {"n": len(gold), "errors": errors}


def format_report(r: dict) -> str:
    lines = [f"gold: {r['gold']['messages']} messages, {r['gold']['mentions']} mentions", ""]
    for mode, per in r["mentions"].items():
        lines.append(f"mentions, {mode} spans:   P      R      F1     (tp/fp/fn)")
        for t, s in per.items():
            lines.append(f"  {t:<10} {s['p']:.3f}  {s['r']:.3f}  {s['f1']:.3f}  ({s['tp']}/{s['fp']}/{s['fn']})")
        lines.append("")
    for mode, per in r["linking"].items():
        lines.append(f"linked mentions, {mode} spans (PERSON, ROLE, PLACE, EVENT, OPERATION):")
        for t, s in per.items():
            lines.append(f"  {t:<10} {s['p']:.3f}  {s['r']:.3f}  {s['f1']:.3f}  ({s['tp']}/{s['fp']}/{s['fn']})")
        lines.append("")
    m = r["messages"]
    lines.append(
        f"messages ({m['n']}): sender {m['sender']:.3f}, recipients {m['recipients']:.3f}, date {m['date']:.3f}, "
        f"all three {m['all']:.3f}, span within 2 chars {m['span']:.3f}"
    )
    for e in m["errors"]:
        lines.append(f"  {e}")
    return "\n".join(lines)
