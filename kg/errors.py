"""Errors a user can act on: each names the file and the problem, and the CLI prints it without a traceback."""

from __future__ import annotations

from pathlib import Path


class KGError(Exception):
    """An error with a message meant for the person running `kg`."""


class SourceError(KGError):
    """A source file (or its manifest entry) that cannot be built."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")
