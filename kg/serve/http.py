"""The front process: HTTP in and out, routing, and `serve()`, which starts and stops everything.

Only this module knows about http.server and sockets; the handlers of the other modules take a Request
and give an Answer. Request paths are mapped onto IRIs, never onto files: the only files served are the
fixed dumps and the files of kg/static/ read when the server starts.
"""

from __future__ import annotations

import dataclasses
import re
import signal
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..errors import KGError
from . import ontology, pages, void
from .answers import Answer, AnswerCache, FileAnswer, Request, text_answer
from .describe import dereference
from .paths import STATIC
from .pool import QueryPool, default_workers, in_memory_dump
from .render import Renderer
from .site import Site
from .sparql import MAX_QUERY_BYTES, READ_ONLY, answer_query

IDLE_TIMEOUT = 30  # seconds a kept-alive connection may sit idle before its thread lets it go
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml",
                ".png": "image/png", ".ico": "image/x-icon", ".txt": "text/plain; charset=utf-8"}
DUMPS = {"graph.nq.gz": "N-Quads", "graph.ttl.gz": "Turtle"}
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


class _InFlight:
    """One computation under way in App.cached: the requests for the same key wait for its answer (or error)."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.answer: Answer | None = None
        self.error: BaseException | None = None


def _copy(ans: Answer) -> Answer:
    """An answer that can be given to one more request: its own headers, the same body."""
    return dataclasses.replace(ans, headers=dict(ans.headers))


class App:
    """Turns requests into answers. Holds the site, the query pool, the templates and the static files."""

    def __init__(self, site: Site, pool: QueryPool, fallback_root: str) -> None:
        self.site = site
        self.pool = pool
        self.fallback_root = fallback_root
        self.renderer = Renderer(site)
        self.static = {f.name: (f.read_bytes(), STATIC_TYPES.get(f.suffix, "application/octet-stream"))
                       for f in STATIC.iterdir() if f.is_file()} if STATIC.is_dir() else {}
        self.queries = {q["name"]: q for q in site.queries}
        self.cache = AnswerCache()
        self._inflight: dict[Any, _InFlight] = {}
        self._inflight_lock = threading.Lock()

    def cached(self, key: Any, compute: Any) -> Answer:
        """The cached answer for `key`, else compute it once: concurrent requests for the same key wait for the
        first one and get its answer instead of all computing the same page (50 clients opening Churchill at once).
        They get it even when it is not kept in the cache (a 504 after --timeout): N identical runaway queries
        then cost one timeout, not N. Later requests, after it is given, compute an uncached answer again."""
        ans = self.cache.get(key)
        if ans is not None:
            return ans
        with self._inflight_lock:
            flight = self._inflight.get(key)
            leader = flight is None
            if leader:
                ans = self.cache.get(key)  # finished between the first look and the lock
                if ans is not None:
                    return ans
                flight = self._inflight[key] = _InFlight()
        assert flight is not None
        if not leader:
            flight.done.wait()  # the leader always sets it (finally below); a query is bounded by the pool's timeouts
            if flight.answer is None:  # the leader failed (logged there): the same 500 its client got
                return text_answer(500, f"internal error: {type(flight.error).__name__}")
            return _copy(flight.answer)
        try:
            ans = compute()
            flight.answer = _copy(ans)  # a copy: the leader's caller adds headers to its own
            self.cache.put(key, ans)
            return ans
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            with self._inflight_lock:
                del self._inflight[key]
            flight.done.set()

    def root(self, req: Request) -> str:
        """The absolute root of this server as clients reach it (for VoID): --base if given, else the Host header."""
        if self.site.public_base != self.site.graph_base:
            return self.site.public_base
        host = req.headers.get("Host", "")
        return f"http://{host}/" if _HOST.match(host) else self.fallback_root

    # -- dispatch -----------------------------------------------------------------------------------

    def handle(self, req: Request) -> Answer:
        path = req.path
        if path == "/update" or path.startswith("/update/") or req.method in ("PUT", "DELETE", "PATCH"):
            return text_answer(403, READ_ONLY)
        if path == "/query":
            return answer_query(req, self.pool, self.cached, self.site.link_prefix)
        if req.method == "POST":
            return text_answer(405, "POST is accepted only by /query", Allow="GET, HEAD, OPTIONS")
        if path in ("/", "/index.html", "/.json", "/index.json"):
            return self.renderer.page(req, "home.html", pages.home(self.site), "wartime-kg", force_json=path.endswith(".json"))
        if path in ("/sparql", "/sparql.html"):
            return self.renderer.render("sparql.html", {"queries": self.site.queries, "initial": req.param("query") or ""}, "SPARQL query")
        if path in ("/queries", "/queries.json", "/queries/"):
            return self.renderer.json_answer([{k: q[k] for k in ("name", "title", "description")} | {"url": f"{self.site.link_prefix}queries/{q['name']}.rq"}
                                              for q in self.site.queries])
        if path.startswith("/queries/"):
            name = path[len("/queries/"):]
            q = self.queries.get(name[:-3]) if name.endswith(".rq") else None
            if q is None:
                return self.renderer.not_found(req)
            return Answer(200, "application/sparql-query; charset=utf-8", q["text"].encode())
        if path.startswith("/static/"):
            f = self.static.get(path[len("/static/"):])
            if f is None:
                return self.renderer.not_found(req)
            return Answer(200, f[1], f[0], {"Cache-Control": "public, max-age=3600"})
        if path.startswith("/.well-known/void"):
            return void.answer(req, self.site, self.renderer, self.root(req))
        if path.startswith("/dumps/"):
            return self.dump(path[len("/dumps/"):], req)
        if path == "/favicon.ico":
            return Answer(204, "image/x-icon", b"")
        if self.site.iri_for_path(path.split(".", 1)[0]) == self.site.graph_base + "ontology":
            return ontology.answer(req, self.site, self.renderer)
        return dereference(req, self.site, self.renderer, self.cached)

    def dump(self, name: str, req: Request) -> Answer:
        if name not in DUMPS:
            return self.renderer.not_found(req, "the dumps are /dumps/graph.nq.gz and /dumps/graph.ttl.gz")
        f = self.site.dir / "dumps" / name
        if not f.is_file():
            return self.renderer.not_found(req, f"this build has no {name}")
        return FileAnswer(200, "application/gzip", b"", {"Content-Disposition": f'attachment; filename="wartime-kg-{name}"',
                                                          "Content-Length": str(f.stat().st_size)}, file=f)


class Handler(BaseHTTPRequestHandler):
    """The HTTP side only: read the request, ask the App, write the answer with CORS and safety headers."""

    server_version = "wartime-kg"
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_OPTIONS(self) -> None:
        self._send(Answer(204, "text/plain", b"", {
            "Access-Control-Allow-Methods": "GET, HEAD, POST, OPTIONS",
            "Access-Control-Allow-Headers": "Accept, Content-Type",
            "Access-Control-Max-Age": "86400", "Allow": "GET, HEAD, POST, OPTIONS"}))

    def _dispatch(self, method: str) -> None:
        split = urlsplit(self.path)
        body = b""
        if method in ("POST", "PUT", "PATCH"):
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                self.close_connection = True
                self._send(text_answer(411, "send the request body with a Content-Length"))
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if length < 0 or length > MAX_QUERY_BYTES:
                self.close_connection = True
                self._send(text_answer(413, "the request body must be at most 1 MiB"))
                return
            body = self.rfile.read(length)
        req = Request(method, split.path or "/", parse_qs(split.query, keep_blank_values=True), self.headers, body)
        try:
            answer = self.server.app.handle(req)  # type: ignore[attr-defined]
        except Exception as exc:  # a bug must cost one request, not the server
            self.log_error("error answering %s: %s", self.path, traceback.format_exc())
            answer = text_answer(500, f"internal error: {type(exc).__name__}")
        self._send(answer, head=method == "HEAD")

    def _send(self, answer: Answer, head: bool = False) -> None:
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            file = answer.file if isinstance(answer, FileAnswer) else None
            if "Content-Length" not in answer.headers:
                self.send_header("Content-Length", str(len(answer.body)))
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("X-Content-Type-Options", "nosniff")
            for k, v in answer.headers.items():
                self.send_header(k, v)
            self.end_headers()
            if head:
                return
            if file is not None:
                with open(file, "rb") as fh:
                    while chunk := fh.read(1 << 16):
                        self.wfile.write(chunk)
            else:
                self.wfile.write(answer.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        sys.stderr.write(f"{self.address_string()} - [{self.log_date_time_string()}] {format % args}\n")


class Server(ThreadingHTTPServer):
    daemon_threads = True  # idle keep-alive connections must not hold up a shutdown
    request_queue_size = 256  # bursts of clients are queued by the kernel, not refused
    app: App


def serve(store_path: Path, host: str = "127.0.0.1", port: int = 7878, base: str | None = None, timeout: float = 10.0,
          seeds: Path | None = None, workers: int | None = None, in_memory: str = "auto") -> int:
    """Serve the store until SIGTERM or SIGINT; returns the exit code. Workers are stopped on the way out."""
    if base and not re.match(r"^https?://[^/\s]+(/\S*)?$", base):
        raise KGError(f"--base must be an http(s) IRI, not {base!r}")
    if base and not base.endswith("/"):
        base += "/"
    if timeout <= 0:
        raise KGError("--timeout must be more than 0 seconds")
    site = Site(Path(store_path), base, seeds)
    try:
        httpd = Server((host, port), Handler)
    except OSError as exc:
        raise KGError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    bound_host, bound_port = httpd.server_address[:2]
    url = f"http://{bound_host if ':' not in str(bound_host) else f'[{bound_host}]'}:{bound_port}/"
    if in_memory not in ("auto", "always", "never"):
        raise KGError(f"--in-memory must be auto, always or never, not {in_memory!r}")
    dump = in_memory_dump(site.dir, site.build, in_memory)
    pool = QueryPool(site.location, workers or default_workers(), timeout, dump)
    httpd.app = App(site, pool, url)
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGTERM, signal.SIGINT)}
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2}, name="kg-serve", daemon=True)
    thread.start()
    # the home page and VoID counts scan the whole graph once: do it now, not for the first visitor
    threading.Thread(target=lambda: (pages.home(site), void.counts(site)), name="kg-serve-warm", daemon=True).start()
    print(f"serving {site.dir.name} ({site.build.get('triples', '?')} triples) on {url} "
          f"(SPARQL at {url}query, {pool.size} query workers{' holding the graph in memory' if dump else ''}, "
          f"timeout {timeout:g} s); Ctrl-C stops",
          file=sys.stderr, flush=True)
    try:
        while not stop.wait(0.5):
            if not thread.is_alive():
                break
    finally:
        httpd.shutdown()
        httpd.server_close()
        pool.close()
        for s, h in previous.items():
            signal.signal(s, h)
    print("stopped", file=sys.stderr, flush=True)
    return 0
