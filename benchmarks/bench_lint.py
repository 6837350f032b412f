"""How long `policykit lint policies/` takes on the bundled policies (the bar: under a second).

    python benchmarks/bench_lint.py [--runs N]

Measures, each as the median of N runs:
- in-process: a fresh interpreter that imports policykit.cli and runs `main(["lint", "policies/"])`,
  timed inside it, with the import, the grammar build and the lint itself reported apart;
- the console script: wall time of `policykit lint policies/` as a user runs it (interpreter start-up
  included), and of `policykit --help` for comparison;
- the rule analysis alone (PK305/PK308/PK309/PK310) per policy, already compiled.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = shutil.which("policykit", path=str(Path(sys.executable).parent)) or "policykit"

IN_PROCESS = r"""
import contextlib, io, json, time
t0 = time.perf_counter()
import policykit.cli
t1 = time.perf_counter()
from policykit import parser
parser._lark()
t2 = time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()):
    code = policykit.cli.main(["lint", "policies/"])
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "grammar": t2 - t1, "lint": t3 - t2, "total": t3 - t0, "code": code}))
"""


def wall(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, cwd=ROOT, capture_output=True, check=False)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7)
    runs = ap.parse_args().runs

    inside = [json.loads(subprocess.run([sys.executable, "-c", IN_PROCESS], cwd=ROOT, capture_output=True,
                                        text=True, check=True).stdout) for _ in range(runs)]
    assert all(r["code"] == 0 for r in inside), "lint policies/ reported errors"
    print(f"in-process, median of {runs} fresh interpreters:")
    for part in ("import", "grammar", "lint", "total"):
        print(f"  {part:<8} {statistics.median(r[part] for r in inside) * 1000:7.0f} ms")

    lint = [wall([SCRIPT, "lint", "policies/"]) for _ in range(runs)]
    helps = [wall([SCRIPT, "--help"]) for _ in range(runs)]
    print(f"console script, wall time, median of {runs} (min–max):")
    print(f"  policykit lint policies/  {statistics.median(lint) * 1000:7.0f} ms  "
          f"({min(lint) * 1000:.0f}–{max(lint) * 1000:.0f})")
    print(f"  policykit --help          {statistics.median(helps) * 1000:7.0f} ms  "
          f"({min(helps) * 1000:.0f}–{max(helps) * 1000:.0f})")

    sys.path.insert(0, str(ROOT / "src"))
    import policykit
    from policykit.lint import date_warnings, rule_warnings
    print("rule analysis alone (compiled policy; PK305, PK308, PK309, PK310):")
    for path in sorted((ROOT / "policies").glob("*.pol")):
        policy = policykit.load(path)
        lines = path.read_text(encoding="utf-8").splitlines()
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            rule_warnings(policy, lines)
            date_warnings(policy, lines)
            times.append(time.perf_counter() - start)
        print(f"  {path.name:<22} {statistics.median(times) * 1000:6.1f} ms  ({len(policy.rules)} rules)")


if __name__ == "__main__":
    main()
