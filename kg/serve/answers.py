"""The values every part of the server passes around: a Request in, an Answer out.

Handlers build plain Answers instead of writing to a socket, so an answer can be cached and given again
(the store never changes while it is served) and only kg.serve.http knows about http.server.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Request:
    method: str
    path: str  # percent-encoded, without the query string
    params: dict[str, list[str]]
    headers: Any  # email.message.Message: case-insensitive get()
    body: bytes = b""

    def accept(self) -> str | None:
        return self.headers.get("Accept")

    def param(self, name: str) -> str | None:
        v = self.params.get(name)
        return v[0] if v else None


@dataclass
class Answer:
    """An HTTP answer: status, media type, body and extra headers."""

    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def text_answer(status: int, message: str, **headers: str) -> Answer:
    return Answer(status, "text/plain; charset=utf-8", (message.rstrip("\n") + "\n").encode(), dict(headers))


@dataclass
class FileAnswer(Answer):
    """An answer streamed from a file (the dumps), so a large dump never sits in memory."""

    file: Path | None = None


class AnswerCache:
    """Answers already given, by key, up to a byte budget (least recently used go first). The store never
    changes while it is served, so an answer stays right; under load the cache is what keeps pages fast."""

    def __init__(self, max_bytes: int = 64 << 20) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[Any, Answer] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: Any) -> Answer | None:
        with self._lock:
            a = self._items.get(key)
            if a is not None:
                self._items.move_to_end(key)
        return Answer(a.status, a.content_type, a.body, dict(a.headers)) if a is not None else None

    def put(self, key: Any, answer: Answer) -> None:
        if answer.status != 200 or len(answer.body) > self.max_bytes // 16:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = Answer(answer.status, answer.content_type, answer.body, dict(answer.headers))
            self._size += len(answer.body)
            while self._size > self.max_bytes and self._items:
                _, old = self._items.popitem(last=False)
                self._size -= len(old.body)


# App.cached: the answer for a key, computed by the callable only when no one has it yet
Cached = Callable[[Any, Callable[[], Answer]], Answer]
