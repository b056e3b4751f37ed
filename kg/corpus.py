"""The corpus: the manifest in seeds/ and the source texts it lists, read exactly as offsets expect."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from .errors import SourceError

MANIFEST = "manifest.toml"
KINDS = ("book", "document")
MAX_BYTES = 50 * 1024 * 1024  # a source larger than this is almost certainly not a transcript


@dataclass(frozen=True)
class Source:
    """One file of the corpus and what the manifest says about it."""

    path: Path
    file: str
    title: str
    kind: str
    citation: str = ""
    url: str = ""
    date: str = ""
    genre: str = ""
    sender: str | None = None
    recipients: tuple[str, ...] = ()
    note: str = ""
    date_note: str = ""
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def read(self) -> str:
        """The text as every offset in the project counts it: UTF-8, newlines untranslated."""
        return read_text(self.path)

    def sha256(self) -> str:
        try:
            return hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError as exc:
            raise SourceError(self.path, f"cannot read the file ({exc.strerror})") from None


def read_text(path: Path) -> str:
    """Read a source, turning every way it can be unreadable into one clear SourceError."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SourceError(path, f"cannot read the file ({exc.strerror})") from None
    if size == 0:
        raise SourceError(path, "the file is empty")
    if size > MAX_BYTES:
        raise SourceError(path, f"the file is {size / 1e6:.0f} MB, over the {MAX_BYTES // 2**20} MiB limit for one source")
    data = path.read_bytes()
    if b"\x00" in data[:65536]:
        raise SourceError(path, "the file is binary (it contains NUL bytes), not a text transcript")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(
            path,
            f"the file is not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "convert it first, e.g. iconv -f cp1252 -t utf-8",
        ) from None
    if not text.strip():
        raise SourceError(path, "the file holds only white space")
    # Offsets are str indices of open(path, encoding="utf-8", newline=""): the same as decoding the bytes.
    return text


def load_manifest(seeds_dir: Path) -> tuple[list[Source], list[SourceError]]:
    """Read seeds/manifest.toml. A bad entry becomes an error naming the manifest and the entry, and the
    other entries still build; only an unreadable manifest stops everything."""
    manifest = seeds_dir / MANIFEST
    if not manifest.exists():
        raise SourceError(manifest, "no manifest: seeds/ needs a manifest.toml listing each source file")
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SourceError(manifest, f"the manifest is not valid TOML ({exc})") from None
    sources: list[Source] = []
    errors: list[SourceError] = []
    entries = data.get("source", [])
    if not isinstance(entries, list) or not entries:
        raise SourceError(manifest, "the manifest lists no [[source]] entries")
    for i, entry in enumerate(entries, start=1):
        try:
            sources.append(_entry(manifest, seeds_dir, i, entry))
        except SourceError as exc:
            errors.append(exc)
    return sources, errors


def _entry(manifest: Path, seeds_dir: Path, index: int, entry: dict) -> Source:
    where = f"entry {index}"
    if not isinstance(entry, dict) or "file" not in entry:
        raise SourceError(manifest, f"{where} has no 'file'")
    where = f"entry {index} ({entry['file']})"
    for key in ("title", "kind"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise SourceError(manifest, f"{where} has no '{key}'")
    if entry["kind"] not in KINDS:
        raise SourceError(manifest, f"{where}: kind must be one of {', '.join(KINDS)}, not {entry['kind']!r}")
    recipients = entry.get("recipients", [])
    if not isinstance(recipients, list) or not all(isinstance(r, str) for r in recipients):
        raise SourceError(manifest, f"{where}: recipients must be a list of names")
    if not isinstance(entry["file"], str) or Path(entry["file"]).name != entry["file"] or entry["file"].startswith("."):
        raise SourceError(manifest, f"{where}: file must be the name of a file in {seeds_dir}, not a path")
    url = entry.get("url", "")
    if url:
        try:
            ox.NamedNode(url)  # the check the store applies when it loads the graph
        except (TypeError, ValueError) as exc:
            raise SourceError(manifest, f"{where}: url {url!r} is not an absolute IRI ({exc}); "
                              "percent-encode spaces and other reserved characters, e.g. %20") from None
    known = {"file", "title", "kind", "citation", "url", "date", "genre", "sender", "recipients", "note", "date_note"}
    return Source(
        path=seeds_dir / entry["file"],
        file=entry["file"],
        title=entry["title"],
        kind=entry["kind"],
        citation=entry.get("citation", ""),
        url=url,
        date=str(entry.get("date", "")),
        genre=entry.get("genre", ""),
        sender=entry.get("sender"),
        recipients=tuple(recipients),
        note=entry.get("note", ""),
        date_note=entry.get("date_note", ""),
        extra={k: v for k, v in entry.items() if k not in known},
    )


def select_sources(seeds_dir: Path, only: list[str] | None = None) -> tuple[list[Source], list[SourceError]]:
    """The manifest's sources, or those among them named on the command line (by file name or path)."""
    sources, errors = load_manifest(seeds_dir)
    if not only:
        return sources, errors
    by_name = {s.file: s for s in sources}
    chosen = []
    for name in only:
        key = Path(name).name
        if key in by_name:
            chosen.append(by_name[key])
        elif not any(e.problem and key in e.problem for e in errors):
            errors.append(SourceError(name, f"not listed in {seeds_dir / MANIFEST}"))
    return chosen, errors
