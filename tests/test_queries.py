"""The canned queries of queries/: each one runs on the seeds build and gives an answer a historian can check.

The answers are facts of the correspondence (Standley was the US ambassador in Moscow on 1 June 1943; Stalin
thanked Churchill for a message that reached him "through Mr Kerr" on 29 March 1942), not "some rows came
back". Every .rq file must have a check here, so a new canned query cannot arrive untested.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "queries"
ENT = "https://w3id.org/wartime-kg/id/"
OFFICE = ENT + "office/"
MSG = "https://w3id.org/wartime-kg/message/"


def _value(term):
    if term is None:
        return None
    if isinstance(term, ox.Literal):
        dt = term.datatype.value if term.datatype else ""
        if dt.endswith("#integer"):
            return int(term.value)
        if dt.endswith("#decimal") or dt.endswith("#double"):
            return float(term.value)
        if dt.endswith("#boolean"):
            return term.value == "true"
    return term.value


def run(store: ox.Store, name: str) -> list[dict]:
    """Run a canned query exactly as the endpoint does: its own text, default graph = union of the graphs."""
    res = store.query((QUERIES / f"{name}.rq").read_text(encoding="utf-8"), use_default_graph_as_union=True)
    names = [v.value for v in res.variables]
    return [{n: _value(row[n]) for n in names} for row in res]


def check_messages_between_stalin_and_churchill(rows: list[dict], ctx: dict) -> None:
    pair = {ENT + "joseph-stalin", ENT + "winston-churchill"}
    assert all({r["sender"], r["recipient"]} == pair for r in rows)
    dates = [r["date"] for r in rows]
    assert dates == sorted(dates), "not in date order"
    first = rows[0]
    assert (first["date"], first["sender"], first["message"]) == ("1941-07-18", ENT + "joseph-stalin", MSG + "1941-07-18-stalin-to-churchill")
    # Churchill's side is known only from Stalin's citations of it: those messages are stubs
    from_churchill = [r for r in rows if r["sender"] == ENT + "winston-churchill"]
    assert from_churchill and all(r["stub"] for r in from_churchill)
    assert any(r["date"] == "1941-11-07" for r in from_churchill)  # "your message of November 7" (1941-11-08)
    # every corpus message from Stalin to Churchill is there
    expected = {m["id"] for m in ctx["messages"] if m["sender"] and m["sender"]["entity"] == ENT + "joseph-stalin"
                and any(r and r["entity"] == ENT + "winston-churchill" for r in m["recipients"])}
    assert expected <= {r["message"] for r in rows}


def check_messages_mentioning_operations(rows: list[dict], ctx: dict) -> None:
    got = {(r["date"], r["operation"]) for r in rows}
    assert ("1944-06-06", ENT + "operation-overlord") in got  # "the successful development of Overlord"
    assert any(op == ENT + "operation-torch" and d.startswith("1942-") for d, op in got)
    assert all(r["operationLabel"].startswith("Operation ") for r in rows)
    assert [r["date"] for r in rows] == sorted(r["date"] for r in rows)


def check_most_co_mentioned_people(rows: list[dict], ctx: dict) -> None:
    top = rows[0]
    assert {top["person1"], top["person2"]} == {ENT + "joseph-stalin", ENT + "winston-churchill"}
    assert top["messages"] > 100
    pairs = [{r["person1"], r["person2"]} for r in rows[:5]]
    assert {ENT + "franklin-d-roosevelt", ENT + "joseph-stalin"} in pairs
    counts = [r["messages"] for r in rows]
    assert counts == sorted(counts, reverse=True)


def check_office_holder_on_date(rows: list[dict], ctx: dict) -> None:
    assert [(r["office"], r["person"], r["personLabel"]) for r in rows] == [
        (OFFICE + "us-ambassador-to-ussr", ENT + "william-h-standley", "William H. Standley")]
    assert rows[0]["start"] <= "1943-06-01" <= rows[0]["end"]


def check_places_per_month(rows: list[dict], ctx: dict) -> None:
    by_month: dict[str, dict[str, int]] = {}
    for r in rows:
        by_month.setdefault(r["month"], {})[r["place"]] = r["mentions"]
    assert ENT + "poland" in by_month["1944-02"] and ENT + "curzon-line" in by_month["1944-02"]
    assert ENT + "poland" in by_month["1945-04"]
    assert all(re.fullmatch(r"19\d\d-\d\d", m) for m in by_month)
    assert list(by_month) == sorted(by_month)
    # the counts agree with the mentions export, counted independently
    dates = {m["id"]: m["date"] or m["date_sent"] for m in ctx["messages"]}
    poland_feb44 = sum(1 for m in ctx["mentions"] if m["entity"] == ENT + "poland" and (dates.get(m["message"]) or "").startswith("1944-02"))
    assert by_month["1944-02"][ENT + "poland"] == poland_feb44


def check_first_and_last_mention(rows: list[dict], ctx: dict) -> None:
    assert [(r["entity"], r["first"], r["last"]) for r in rows] == [(ENT + "curzon-line", "1944-02-04", "1945-04-28")]
    assert rows[0]["messages"] >= 6


def check_messages_delivered_through(rows: list[dict], ctx: dict) -> None:
    got = {(r["date"], r["through"]) for r in rows}
    assert ("1942-03-29", ENT + "archibald-clark-kerr") in got  # "reached me through Mr Kerr"
    assert ("1945-05-30", ENT + "harry-hopkins") in got  # "Mr Hopkins conveyed to me today"
    kerr = next(r for r in rows if r["date"] == "1942-03-29" and r["through"] == ENT + "archibald-clark-kerr")
    assert kerr["throughLabel"] == "Archibald Clark Kerr" and "Kerr" in kerr["evidence"]


def check_poland_and_curzon_line(rows: list[dict], ctx: dict) -> None:
    dates = [r["date"] for r in rows]
    assert "1944-02-04" in dates and "1945-04-28" in dates
    assert dates == sorted(dates)
    assert all(r["polandMentions"] >= 1 and r["curzonMentions"] >= 1 for r in rows)
    both = {m["message"] for m in ctx["mentions"] if m["entity"] == ENT + "poland"} & \
        {m["message"] for m in ctx["mentions"] if m["entity"] == ENT + "curzon-line"}
    assert {r["message"] for r in rows} == both


def check_replies(rows: list[dict], ctx: dict) -> None:
    got = {(r["message"], r["cited"]) for r in rows}
    assert (MSG + "1941-11-08-stalin-to-churchill", MSG + "stub/1941-11-07-churchill-to-stalin") in got
    stub = next(r for r in rows if r["cited"] == MSG + "stub/1941-11-07-churchill-to-stalin")
    assert stub["citedIsStub"] is True and stub["citedDate"] == "1941-11-07"
    # a citation of a message that IS in the corpus points at it, not at a stub
    assert any(not r["citedIsStub"] and not r["cited"].startswith(MSG + "stub/") for r in rows)
    dated = [r["date"] for r in rows if r["date"]]
    assert dated == sorted(dated)


def check_unreviewed_entities(rows: list[dict], ctx: dict) -> None:
    assert rows and all("/id/unreviewed/" in r["entity"] for r in rows)
    assert ENT + "winston-churchill" not in {r["entity"] for r in rows}
    mentions = Counter(m["entity"] for m in ctx["mentions"] if m["entity"])
    for r in rows[:20]:
        assert r["mentions"] == mentions[r["entity"]], r["entity"]
    assert [r["mentions"] for r in rows] == sorted((r["mentions"] for r in rows), reverse=True)


def check_messages_per_correspondent_per_year(rows: list[dict], ctx: dict) -> None:
    sent: Counter = Counter()
    for m in ctx["messages"]:
        date = m["date"] or m["date_sent"]
        if date and m["sender"]:
            sent[(int(date[:4]), m["sender"]["entity"])] += 1
    got = {(r["year"], r["person"]): r for r in rows}
    for year in (1941, 1942, 1943, 1944, 1945):
        assert got[(year, ENT + "joseph-stalin")]["sent"] == sent[(year, ENT + "joseph-stalin")]
    assert got[(1943, ENT + "winston-churchill")]["received"] > 20
    assert got[(1943, ENT + "joseph-stalin")]["sent"] > got[(1941, ENT + "joseph-stalin")]["sent"]


def check_mention_reasons(rows: list[dict], ctx: dict) -> None:
    first = rows[0]
    assert first["date"] == "1942-03-29" and first["text"] == "Kerr"
    assert all('alias "Kerr"' in r["reasons"] or "Kerr" in r["reasons"] for r in rows if r["text"] == "Kerr")
    assert all(r["score"] is not None and 0 < r["score"] <= 1 for r in rows)
    kerr = [m for m in ctx["mentions"] if m["entity"] == ENT + "archibald-clark-kerr"]
    assert len(rows) == len(kerr)


def check_offices_held_by_a_person(rows: list[dict], ctx: dict) -> None:
    offices = {r["office"]: r for r in rows}
    assert offices[OFFICE + "ussr-foreign-commissar"]["start"] == "1939-05-03"
    assert all(r["person"] == ENT + "vyacheslav-molotov" for r in rows)


def check_sources(rows: list[dict], ctx: dict) -> None:
    from kg.corpus import load_manifest

    sources, _ = load_manifest(ROOT / "seeds")
    assert [r["file"] for r in rows] == sorted(s.file for s in sources)
    by_file = {r["file"]: r for r in rows}
    assert by_file["001_3885a6e84abb0fe1.txt"]["kind"] == "book" and by_file["001_3885a6e84abb0fe1.txt"]["messages"] > 300
    assert sum(r["messages"] for r in rows) == len(ctx["messages"])


CHECKS: dict[str, Callable[[list[dict], dict], None]] = {
    name[len("check_"):].replace("_", "-"): fn for name, fn in globals().items() if name.startswith("check_")
}


def test_at_least_twelve_canned_queries_each_with_a_check():
    names = sorted(p.stem for p in QUERIES.glob("*.rq"))
    assert len(names) >= 12
    assert set(names) == set(CHECKS), "every canned query needs a known-answer check (and every check a query)"


@pytest.mark.parametrize("path", sorted(QUERIES.glob("*.rq")), ids=lambda p: p.stem)
def test_query_file_is_self_describing(path: Path):
    """A comment says what it answers, and it declares its prefixes: nothing relies on implicit ones."""
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# ") and len(text.splitlines()[0]) > 20
    used = set(re.findall(r"(?<![\w?<\"])([a-z][\w-]*):[\w]", re.sub(r"<[^>]*>|\"[^\"]*\"|#[^\n]*", "", text)))
    declared = set(re.findall(r"PREFIX\s+([\w-]*):", text))
    assert used <= declared, f"undeclared prefixes: {used - declared}"
    ox.Store().query(text)  # parses with no prefixes given


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_canned_query_known_answer(name: str, store, messages, mentions):
    rows = run(store, name)
    assert rows, f"{name} gave no rows"
    CHECKS[name](rows, {"messages": messages, "mentions": mentions})
