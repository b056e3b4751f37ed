"""A synthetic corpus N times the size of the seeds, for measuring how a build's memory grows with input.

Made from the book of the seeds (seeds/001_*.txt): its messages, as kg.messages splits them (each with
its "Sent on" and date lines and its header), are shuffled, their dates shifted and some names swapped,
and written as several book files with a manifest.toml. One "unit" holds every message of the book once
(about 375 messages, 380 KB, spread over `FILES_PER_UNIT` files), so a corpus of scale N has N units:
the same kind of text the real pipeline meets, in a volume that scales linearly, and different enough
from unit to unit that nothing is shared by accident (no two files are alike, so no cache can help).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from kg.corpus import select_sources
from kg.messages import _DATE, MONTHS, split

FILES_PER_UNIT = 4
_DATE_RE = re.compile(_DATE)
_MONTH_NAMES = {v: k for k, v in MONTHS.items()}
# names swapped within a group, in a message's header and body alike (so headers still name a recipient)
_NAME_GROUPS = [
    ["Churchill", "Roosevelt"],
    ["Molotov", "Eden", "Hull", "Hopkins", "Harriman", "Beaverbrook"],
    ["Eisenhower", "Montgomery", "Alexander", "Marshall"],
    ["Leningrad", "Stalingrad", "Kharkov", "Kiev", "Odessa"],
]
_NAMES = re.compile(r"\b(" + "|".join(n for g in _NAME_GROUPS for n in g for n in (n, n.upper())) + r")\b")
_LO, _HI = date(1941, 6, 22), date(1946, 12, 31)


@dataclass
class SyntheticCorpus:
    """Where the corpus was written and how big it is."""

    directory: Path
    scale: int
    files: int
    messages: int
    bytes: int


def book_messages(seeds_dir: Path) -> list[str]:
    """The message texts of the seeds' book(s), each from its first preamble line to its last line."""
    sources, _ = select_sources(seeds_dir)
    chunks: list[str] = []
    for source in sources:
        if source.kind != "book":
            continue
        text = source.read()
        chunks.extend(text[m.start : m.end] for m in split(source, text))
    if not chunks:
        raise SystemExit(f"bench: no book in {seeds_dir}/manifest.toml to make a synthetic corpus from")
    return chunks


def perturb(chunk: str, rng: random.Random) -> str:
    """Shift every date of the message by the same random offset and permute names within their group."""
    shift = timedelta(days=rng.randint(-90, 90))

    def new_date(m: re.Match) -> str:
        try:
            d = date(int(m.group("year")), MONTHS[m.group("month")], int(m.group("day"))) + shift
        except ValueError:
            return m.group(0)
        d = min(max(d, _LO), _HI)
        return f"{_MONTH_NAMES[d.month]} {d.day}, {d.year}"

    mapping: dict[str, str] = {}
    for group in _NAME_GROUPS:
        perm = group[:]
        rng.shuffle(perm)
        for a, b in zip(group, perm):
            mapping[a] = b
            mapping[a.upper()] = b.upper()
    chunk = _DATE_RE.sub(new_date, chunk)
    return _NAMES.sub(lambda m: mapping.get(m.group(1), m.group(1)), chunk)


def make_corpus(seeds_dir: Path, out: Path, scale: int, seed: int = 1941) -> SyntheticCorpus:
    """Write `scale` units of shuffled, perturbed book messages into `out` (with manifest.toml)."""
    chunks = book_messages(seeds_dir)
    out.mkdir(parents=True, exist_ok=True)
    entries: list[str] = []
    n_files = n_msgs = n_bytes = 0
    for unit in range(scale):
        rng = random.Random(f"{seed}-{unit}")
        order = list(range(len(chunks)))
        rng.shuffle(order)
        per_file = -(-len(order) // FILES_PER_UNIT)
        for part in range(FILES_PER_UNIT):
            picked = order[part * per_file : (part + 1) * per_file]
            if not picked:
                continue
            text = "\n\n".join(perturb(chunks[i], rng) for i in picked) + "\n"
            name = f"{unit:04d}_{part}_synthetic.txt"
            (out / name).write_text(text, encoding="utf-8", newline="")
            entries.append(
                f'[[source]]\nfile = "{name}"\ntitle = "Synthetic war telegrams, unit {unit}, part {part}"\n'
                f'kind = "book"\ngenre = "correspondence"\nsender = "Joseph Stalin"\ndate = "1986"\n'
            )
            n_files += 1
            n_msgs += len(picked)
            n_bytes += len(text.encode("utf-8"))
    header = f"# Synthetic corpus made by `python -m bench` from {seeds_dir}: {scale}x the book, shuffled and perturbed.\n\n"
    (out / "manifest.toml").write_text(header + "\n".join(entries), encoding="utf-8")
    return SyntheticCorpus(out, scale, n_files, n_msgs, n_bytes)
