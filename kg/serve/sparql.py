"""The SPARQL 1.1 Protocol at /query: reading the query out of GET, POST and forms, refusing updates.

Everything here happens in the front process and is cheap; the query itself goes to the worker pool, which
alone evaluates and serialises it, and the answer is cached by query text, format and dataset.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs

from .answers import Answer, Cached, Request, text_answer
from .formats import FORMAT_ALIASES
from .pool import QueryJob, QueryPool

MAX_QUERY_BYTES = 1 << 20
READ_ONLY = ("This endpoint is read-only: SPARQL Update (INSERT, DELETE, LOAD, CLEAR, CREATE, DROP, COPY, MOVE, ADD) "
             "and writes of any kind are refused. The graph changes only by a new `kg build`.")

UPDATE_WORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}
_PROLOGUE = re.compile(r"""\s+|\#[^\n]*|(?:PREFIX\s+[^\s:]*:\s*<[^>]*>)|(?:BASE\s*<[^>]*>)""", re.IGNORECASE)


def is_update(text: str) -> bool:
    """True when the request is a SPARQL Update: the first keyword after the prologue (comments, PREFIX, BASE)
    starts an update operation. Checked before anything runs, so an update is refused with a 403 that says
    why instead of the parser's 'expected SELECT' that a query parser would give."""
    pos = 0
    while True:
        m = _PROLOGUE.match(text, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
    word = re.match(r"[A-Za-z]+", text[pos:])
    return bool(word) and word.group(0).upper() in UPDATE_WORDS


def answer_query(req: Request, pool: QueryPool, cached: Cached, link_prefix: str) -> Answer:
    """A request to /query: the SPARQL text and dataset out of GET, POST or a form, run by the pool, or the reason
    it is refused."""
    params = dict(req.params)
    query: list[str] | None = params.get("query")
    if req.method == "POST":
        ctype = (req.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        try:
            body = req.body.decode("utf-8")
        except UnicodeDecodeError:
            return text_answer(400, "the request body is not UTF-8")
        if ctype == "application/sparql-update":
            return text_answer(403, READ_ONLY)
        if ctype == "application/sparql-query":
            query = [body]
        elif ctype == "application/x-www-form-urlencoded":
            form = parse_qs(body, keep_blank_values=True)
            for k, v in form.items():
                params.setdefault(k, []).extend(v)
            query = params.get("query")
        else:
            return text_answer(415, "POST a query as application/sparql-query or as the form field `query` "
                                    "(application/x-www-form-urlencoded)")
    elif req.method not in ("GET", "HEAD"):
        return text_answer(405, "use GET or POST", Allow="GET, HEAD, POST, OPTIONS")
    if "update" in params:
        return text_answer(403, READ_ONLY)
    if not query:
        if "text/html" in (req.accept() or "") and req.method != "POST":  # a person who typed /query: the query page
            return Answer(303, "text/plain; charset=utf-8", b"see /sparql\n", {"Location": f"{link_prefix}sparql"})
        return text_answer(400, "no query: pass the SPARQL text as ?query=..., as the form field `query`, or POST it "
                                "as application/sparql-query")
    if len(query) > 1:
        return text_answer(400, "more than one query in the request")
    text = query[0]
    if len(text.encode()) > MAX_QUERY_BYTES:
        return text_answer(413, "the query is longer than 1 MiB")
    if is_update(text):
        return text_answer(403, READ_ONLY)
    fmt = req.param("format") or req.param("output") or req.param("results")
    accept = FORMAT_ALIASES.get(fmt.lower(), fmt) if fmt else req.accept()
    job = QueryJob(text, accept, params.get("default-graph-uri", []), params.get("named-graph-uri", []))
    key = ("sparql", job.query, job.accept, tuple(job.default_graphs), tuple(job.named_graphs))
    answer = cached(key, lambda: pool.run(job))
    answer.headers.setdefault("Vary", "Accept")
    return answer
