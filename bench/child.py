"""One build in a fresh process, for the memory measurement: `python -m bench.child SEEDS STORE [WORKERS]`.

A fresh interpreter per build, so the high-water mark of resident memory (VmHWM) belongs to that build
alone (imports, model and build together, as `kg build` would use them). Prints one JSON line.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def high_water_kb() -> int:
    """Peak resident set size of this process, in KiB (VmHWM; ru_maxrss where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main(argv: list[str]) -> int:
    from kg.builder import build

    seeds, store = Path(argv[0]), Path(argv[1])
    workers = int(argv[2]) if len(argv) > 2 else 1
    t0 = time.perf_counter()
    summary = build(None, store, seeds_dir=seeds, workers=workers, use_cache=False, report=lambda m: None)
    seconds = time.perf_counter() - t0
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # worker processes, if any
    print(json.dumps({"seconds": seconds, "peak_kb": high_water_kb(), "workers_peak_kb": children,
                      "messages": summary.messages, "mentions": summary.mentions, "triples": summary.triples}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
