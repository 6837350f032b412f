"""Benchmark the moderation stream and archive verification (issue 7's bar).

    .venv/bin/python benchmarks/bench_moderate.py                 # both parts, default sizes
    .venv/bin/python benchmarks/bench_moderate.py --comments 100000 --records 1000000
    .venv/bin/python benchmarks/bench_moderate.py --skip-verify   # moderate throughput only

1. `policykit moderate --policy clinton` on a generated JSON Lines stream of comments (a realistic mix:
   mostly fine, some profane, some spam, repeat authors), into a fresh SQLite archive with durable
   commits (WAL, synchronous=FULL) in batches, pinned to one core when `taskset` exists. Prints
   comments/s as `moderate` measures it (from the first line read to the last verdict written) and
   without the engine's start: the detector engine is built (or loaded from the on-disk cache) on the
   first comment, inside that window, so a one-comment run is timed too and subtracted. For each of
   `--runs` runs (with the load average, since the machine may be shared) and their median.
   Bar: a median of at least 5,000 comments per second.
2. Builds an archive of N records (default 1,000,000), signs a checkpoint of its head, and times
   `policykit records verify --key PUB` on it, as a user runs it (process start, SQLite's quick_check,
   the derived-table replay and the checkpoint check included). Bar: under 60 seconds.

Exit status 1 if a bar is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

TEXTS = [
    "Thanks for fixing the streetlights on Elm so quickly!",
    "When does the community pool open this summer?",
    "Great turnout at the farmers market today, well done everyone.",
    "The pothole on 5th and Main is still there, please send someone.",
    "What the hell is the council thinking with this budget?",
    "BUY CHEAP WATCHES at http://spam.example.com limited offer!!!",
    "Can someone tell me where to renew a dog license?",
    "Love the new trail signs in Riverside Park.",
    "This is damn ridiculous, nobody plows our street.",
    "Vote for me for city council, donate at my campaign site",
]


def make_stream(path: Path, n: int, seed: int = 7) -> None:
    rnd = random.Random(seed)
    with path.open("w") as fh:
        for i in range(n):
            author = f"u{rnd.randrange(n // 10 + 1)}"
            fh.write(json.dumps({
                "kind": "comment", "id": f"c{i}", "platform": "facebook",
                "at": f"2024-05-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z",
                "text": rnd.choice(TEXTS),
                "author": {"id": author, "name": f"Resident {author}"},
                "account": {"id": "clinton-fb", "handle": "@clintoncity", "platform": "facebook"},
            }) + "\n")


def one_core() -> list[str]:
    return ["taskset", "-c", "0"] if shutil.which("taskset") else []


def moderate_once(stream: Path, db: Path, n: int, batch: int) -> tuple[float, float, float, dict[str, int]]:
    """One `policykit moderate` run into a fresh archive: (comments/s, wall s, child CPU s, decisions)."""
    for stale in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        stale.unlink(missing_ok=True)
    cmd = [*one_core(), sys.executable, "-m", "policykit.cli_records", "moderate", "--policy", "clinton",
           "--archive", str(db), "--batch", str(batch), "--stats", str(stream)]
    cpu0 = os.times()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(ROOT))
    wall = time.perf_counter() - t0
    cpu1 = os.times()
    cpu = (cpu1.children_user - cpu0.children_user) + (cpu1.children_system - cpu0.children_system)
    if proc.returncode != 0:
        sys.exit(f"moderate failed ({proc.returncode}): {proc.stderr.strip()}")
    m = re.search(r"in ([\d.]+)s: ([\d,]+) events/s", proc.stderr)
    rate = n / float(m.group(1)) if m and float(m.group(1)) > 0 else n / wall
    decisions: dict[str, int] = {}
    for line in proc.stdout.splitlines():
        d = json.loads(line)["decision"]
        decisions[d] = decisions.get(d, 0) + 1
    return rate, wall, cpu, decisions


def bench_moderate(tmp: Path, n: int, batch: int, runs: int = 3) -> float:
    """`runs` runs (the machine may be shared: each is printed, with the load average before it); the
    median is what the bar is judged on."""
    stream = tmp / "comments.jsonl"
    make_stream(stream, n)
    single = tmp / "one.jsonl"
    make_stream(single, 1)
    # the engine build (or its load from the on-disk cache, filled here first) happens on the first
    # comment, inside `moderate`'s own window: a one-comment run measures that fixed cost, and the rate
    # judged is (n - 1) comments over the difference of the two windows
    os.environ.setdefault("POLICYKIT_CACHE_DIR", str(tmp / "cache"))
    moderate_once(single, tmp / "moderate.db", 1, batch)
    rates = []
    for i in range(runs):
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        one_rate, _, _, _ = moderate_once(single, tmp / "moderate.db", 1, batch)
        raw, wall, cpu, decisions = moderate_once(stream, tmp / "moderate.db", n, batch)
        fixed = 1 / one_rate
        rate = (n - 1) / max(n / raw - fixed, 1e-9)
        rates.append(rate)
        print(f"  run {i + 1}: {rate:,.0f} comments/s without the engine's start ({raw:,.0f}/s as moderate "
              f"measures it, {fixed * 1000:.0f} ms of it the first comment; {wall:.1f}s wall, {cpu:.1f}s CPU "
              f"incl. start-up; load average before {load:.2f})", flush=True)
    rates.sort()
    median = rates[len(rates) // 2]
    print(f"moderate: {n:,} comments -> {sum(decisions.values()):,} verdicts {decisions}; median {median:,.0f} "
          f"comments/s, best {rates[-1]:,.0f}, worst {rates[0]:,.0f} of {runs} (durable commits, batches of "
          f"<= {batch}; {'one core' if one_core() else 'unpinned'}) -- bar 5,000/s: "
          f"{'PASS' if median >= 5000 else 'FAIL'}")
    return median


def build_archive(db: Path, n: int) -> None:
    """n records through the archive's own write path (events and verdicts, as moderation makes them)."""
    from policykit.records import open_archive

    a = open_archive(str(db))
    a._conn.execute("PRAGMA synchronous = OFF")  # building the fixture only; verify reads it back as usual
    verdict = json.dumps({"policy": {"name": "clinton"}, "decision": "allow", "findings": [], "obligations": []})
    ref = {"name": "clinton", "title": "Clinton City Social Media Use Policy", "version": "adopted", "digest": "0" * 64}
    rnd = random.Random(3)
    done, i = 0, 0
    while done < n:
        with a.writing() as w:
            for _ in range(min(10000, (n - done + 1) // 2)):
                ing = w.ingest({"kind": "comment", "id": f"c{i}", "platform": "facebook", "text": rnd.choice(TEXTS),
                                "at": "2024-05-01T10:00:00Z", "author": {"id": f"u{i % 5000}"}})
                w.record_verdict(ing, ref, verdict, "allow")
                i += 1
        done = a.count()
    a.close()


def bench_verify(tmp: Path, n: int) -> float:
    db = tmp / "million.db"
    t0 = time.perf_counter()
    build_archive(db, n)
    built = time.perf_counter() - t0
    size = db.stat().st_size / 1e6
    from policykit.records import open_archive
    from policykit.records.checkpoint import generate_key, load_private_key

    private, public, _ = generate_key(tmp / "bench.key")
    with open_archive(str(db)) as a:
        a.sign_checkpoint(load_private_key(private))
    cmd = [sys.executable, "-m", "policykit.cli_records", "records", "verify", "--archive", str(db), "--key",
           str(public)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(ROOT))
    took = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"verify failed ({proc.returncode}): {proc.stdout.strip()} {proc.stderr.strip()}")
    count = int(re.search(r"ok: (\d+) records", proc.stdout).group(1))
    print(f"verify: {count:,} records ({size:,.0f} MB, built in {built:.0f}s) verified in {took:.1f}s "
          f"-- bar 60s: {'PASS' if took < 60 else 'FAIL'}")
    return took


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--comments", type=int, default=50000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3, help="moderate runs; the median is judged (default 3)")
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--skip-verify", action="store_true")
    ap.add_argument("--skip-moderate", action="store_true")
    args = ap.parse_args()
    ok = True
    tmp = Path(tempfile.mkdtemp(prefix="policykit-bench-"))
    try:
        if not args.skip_moderate:
            ok &= bench_moderate(tmp, args.comments, args.batch, args.runs) >= 5000
        if not args.skip_verify:
            ok &= bench_verify(tmp, args.records) < 60
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
