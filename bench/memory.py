"""Peak memory of a build at several corpus sizes, each build in a fresh subprocess.

The peak is the child's own high-water mark (VmHWM), which it prints when the build ends. A watchdog
samples the child's resident memory twice a second and stops it past `cap_mb` (default: 60% of the
memory available when the bench starts), so a build that does not stream cannot take the machine down;
a stopped build reports the largest resident size seen, which is a lower bound of its peak.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.synthetic import make_corpus

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class MemoryRun:
    scale: int
    files: int
    messages: int
    mbytes: float
    peak_mb: float
    seconds: float
    triples: int | None
    complete: bool  # False: stopped by the cap or the time limit; peak_mb is then a lower bound
    note: str = ""


def default_cap_mb() -> float:
    return psutil.virtual_memory().available / 2**20 * 0.6


def _run_child(seeds: Path, store: Path, workers: int, cap_mb: float, time_limit: float) -> tuple[dict | None, float, float, str]:
    """(the child's JSON or None, largest RSS seen in MiB, seconds, why it was stopped)."""
    cmd = [sys.executable, "-m", "bench.child", str(seeds), str(store), str(workers)]
    # the child imports kg as this process did (from the current directory first, as `python -m` does),
    # so the bench run from a checkout with a patched kg/ measures that kg; bench/ itself comes from ROOT
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=Path.cwd(), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    seen, why = 0.0, ""
    ps = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            seen = max(seen, ps.memory_info().rss / 2**20)
        except psutil.Error:
            pass
        if seen > cap_mb:
            why = f"stopped at the {cap_mb:,.0f} MiB cap"
        elif time.perf_counter() - t0 > time_limit:
            why = f"stopped after the {time_limit:,.0f} s time limit"
        if why:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            break
        time.sleep(0.5)
    out, err = proc.communicate()
    seconds = time.perf_counter() - t0
    if why or proc.returncode != 0:
        return None, seen, seconds, why or f"the build failed (exit {proc.returncode}): {err.strip().splitlines()[-1:]}"
    return json.loads(out.strip().splitlines()[-1]), seen, seconds, ""


def measure(
    seeds_dir: Path, work: Path, scales: list[int], log: Callable[[str], None],
    workers: int = 1, cap_mb: float | None = None, time_limit: float = 4 * 3600,
) -> list[MemoryRun]:
    """Make each synthetic corpus, build it in a child, delete it again (the 100x store is large)."""
    cap = cap_mb or default_cap_mb()
    runs: list[MemoryRun] = []
    for scale in scales:
        corpus = make_corpus(seeds_dir, work / f"syn{scale}", scale)
        log(f"memory: {scale}x = {corpus.files} files, {corpus.messages} messages, {corpus.bytes / 1e6:.1f} MB; building...")
        data, seen, seconds, why = _run_child(corpus.directory, work / f"mem{scale}" / "store", workers, cap, time_limit)
        if data is not None:
            run = MemoryRun(scale, corpus.files, corpus.messages, corpus.bytes / 1e6, data["peak_kb"] / 1024,
                            data["seconds"], data["triples"], True)
        else:
            run = MemoryRun(scale, corpus.files, corpus.messages, corpus.bytes / 1e6, seen, seconds, None, False, why)
        log(f"  {scale}x: peak {run.peak_mb:,.0f} MiB{'' if run.complete else ' or more'}, {run.seconds:,.0f} s {why}")
        runs.append(run)
        shutil.rmtree(corpus.directory, ignore_errors=True)
        shutil.rmtree(work / f"mem{scale}", ignore_errors=True)
    return runs
