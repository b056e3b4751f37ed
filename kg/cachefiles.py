"""Files of the build cache, written so that a build killed midway never leaves half a file that a later
build would trust: each is written beside its target under a temporary name and renamed over it."""

from __future__ import annotations

import os
import pickle
from pathlib import Path


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def read_pickle(path: Path) -> object | None:
    """The object pickled at `path`, or None when there is none, or it is torn, or from other code."""
    try:
        with open(path, "rb") as fh:
            return pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError):
        return None


def write_pickle(path: Path, obj: object, older: str) -> None:
    """Pickle `obj` to `path` and drop the files of its folder matching the glob `older` (the pickles of
    keys that are no longer asked for). A cache that cannot be written costs time, never the build."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))
        for old in path.parent.glob(older):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        pass
