"""How fast the command line starts, with a cold and a warm on-disk cache side by side (issue 13).

    .venv/bin/python benchmarks/bench_startup.py            # 7 runs of each
    .venv/bin/python benchmarks/bench_startup.py --runs 15

Runs, as a user would, `policykit --help` and `policykit check --policy clinton` on one comment, each
with POLICYKIT_CACHE_DIR pointing at an empty directory (cold: the detector engine and the parser are
built, then written) and at a filled one (warm: both loaded). Prints the median wall time and the
median CPU time (user + system of the child: on a shared machine, the fairer figure) and the bars:
`--help` under 100 ms, `check` on one event under 300 ms from a warm cache. Exit status 1 if a bar is
missed on CPU time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POLICYKIT = Path(sys.executable).with_name("policykit")
EVENT = {"kind": "comment", "id": "c1", "platform": "facebook", "text": "What the hell is this, buy cheap watches now",
         "author": {"id": "u1", "name": "Resident"}}
BARS = {"--help": 0.100, "check, warm cache": 0.300}


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, cpu) seconds of one run of `cmd`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(cmd: list[str], runs: int, cache: Path, cold: bool) -> tuple[float, float]:
    env = dict(os.environ, POLICYKIT_CACHE_DIR=str(cache))
    walls, cpus = [], []
    if not cold:
        run(cmd, env)  # fill the cache
    for _ in range(runs):
        if cold:
            shutil.rmtree(cache, ignore_errors=True)
        w, c = run(cmd, env)
        walls.append(w)
        cpus.append(c)
    return statistics.median(walls), statistics.median(cpus)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        event = Path(tmp) / "event.json"
        event.write_text(json.dumps(EVENT), encoding="utf-8")
        check = [str(POLICYKIT), "check", "--policy", "clinton", str(event)]
        cases = [("--help", [str(POLICYKIT), "--help"]), ("check", check)]
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; median of {args.runs} runs")
        print(f"{'command':<22}{'cold wall':>11}{'cold cpu':>10}{'warm wall':>11}{'warm cpu':>10}  bar (cpu)")
        ok = True
        for name, cmd in cases:
            cw, cc = measure(cmd, args.runs, Path(tmp) / "cache", cold=True)
            ww, wc = measure(cmd, args.runs, Path(tmp) / "cache", cold=False)
            bar = BARS.get(name) or BARS.get(f"{name}, warm cache")
            verdict = ""
            if bar is not None:
                met = wc < bar
                ok &= met
                verdict = f"< {bar * 1000:.0f} ms: {'met' if met else 'MISSED'}"
            print(f"{name:<22}{cw * 1000:>9.0f}ms{cc * 1000:>8.0f}ms{ww * 1000:>9.0f}ms{wc * 1000:>8.0f}ms  {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
