"""A bounded load test on loopback: 50 concurrent clients for 30 seconds of mixed canned queries and
entity pages against a real `kg serve`. It stops by itself; it reports p50 and p99 and asserts 0 errors."""

from __future__ import annotations

import json
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 50
SECONDS = 30.0
PAGES = ["/id/winston-churchill", "/id/archibald-clark-kerr", "/id/poland", "/id/operation-overlord", "/"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(built_store):
    port = free_port()
    log = built_store.parent / "serve-load.log"  # a file, not a pipe: an unread pipe would block the server's log writes
    proc = subprocess.Popen([sys.executable, "-m", "kg.cli", "serve", "--store", str(built_store), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=open(log, "wb"))
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(base + "/", timeout=2).read()
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("kg serve did not start: " + log.read_text(errors="replace")[-2000:])
    yield base
    proc.terminate()
    proc.wait(timeout=20)


def test_fifty_clients_thirty_seconds(server, output_dir):
    queries = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "queries").glob("*.rq"))]
    assert len(queries) >= 12
    targets = [("page", p) for p in PAGES] + [("query", q) for q in queries]
    # one warm-up pass: the server caches answers of its unchanging store; the load measures serving,
    # the first computation of each page is timed separately
    warm = {}
    for kind, what in targets:
        t0 = time.perf_counter()
        if kind == "page":
            urllib.request.urlopen(urllib.request.Request(server + what, headers={"Accept": "text/html"}), timeout=120).read()
        else:
            urllib.request.urlopen(server + "/query?" + urllib.parse.urlencode({"query": what}), timeout=120).read()
        warm[what[:40]] = round(time.perf_counter() - t0, 2)
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + SECONDS

    def client(i: int) -> None:
        n = i
        while time.monotonic() < deadline:
            kind, what = targets[n % len(targets)]
            n += 7
            if kind == "page":
                req = urllib.request.Request(server + what, headers={"Accept": "text/html"})
            else:
                req = urllib.request.Request(server + "/query?" + urllib.parse.urlencode({"query": what}),
                                             headers={"Accept": "application/sparql-results+json"})
            t0 = time.perf_counter()
            try:
                with urllib.request.urlopen(req, timeout=60) as resp:
                    resp.read()
                    ok = resp.status == 200
            except Exception as exc:  # every failure counts, whatever its kind
                ok = False
                with lock:
                    errors.append(f"{kind} {what[:60]!r}: {exc}")
            dt = time.perf_counter() - t0
            if ok:
                with lock:
                    latencies.append(dt)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=SECONDS + 60)
    assert not any(t.is_alive() for t in threads)
    latencies.sort()
    report = {
        "clients": CLIENTS,
        "seconds": SECONDS,
        "requests": len(latencies) + len(errors),
        "errors": len(errors),
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1) if latencies else None,
        "requests_per_second": round(len(latencies) / SECONDS, 1),
        "first_computation_seconds": warm,
    }
    (output_dir / "load.json").write_text(json.dumps(report, indent=2))
    print("\nload test:", json.dumps(report))
    assert not errors, errors[:5]
    assert len(latencies) > CLIENTS
