"""Quality and speed of policykit's built-in detectors.

    .venv/bin/python benchmarks/bench_detectors.py            # quality table, throughput, hostile inputs
    .venv/bin/python benchmarks/bench_detectors.py --errors   # also list every false positive / negative
    .venv/bin/python benchmarks/bench_detectors.py --quick    # smaller throughput run

Quality: per-category precision and recall on the labelled development set
(tests/data/detector_devset.jsonl: {"text": ..., "labels": [...]}), a text counting as positive for a
category when any built-in detector reports a hit of it. Throughput: comments per second through *all*
built-in detectors (each detector called once per comment, as the evaluator does), single thread, on a
mixed stream of typical comments (the dev set's texts of at most 300 characters, shuffled). Hostile
inputs: wall time for 1 MB comments and pathological repetitions, which must grow linearly.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from policykit.detectors import default_detectors  # noqa: E402

DEVSET = ROOT / "tests" / "data" / "detector_devset.jsonl"
BAR = {  # category → (precision, recall) the issue requires
    "profanity": (0.95, 0.90),
    "threat": (0.95, 0.90),
    "personal_information": (0.95, 0.90),
    "commercial_solicitation": (0.95, 0.90),
    "political_endorsement": (0.95, 0.90),
    "contest": (0.95, 0.90),
}


def load(path: Path = DEVSET) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def predict(detectors, text: str) -> set[str]:
    cats: set[str] = set()
    for d in detectors:
        for h in d.detect(text):
            cats.add(h.category)
    return cats


def quality(detectors, rows: list[dict], show_errors: bool) -> bool:
    categories = sorted({c for d in detectors for c in d.categories} | {c for r in rows for c in r["labels"]})
    tp = dict.fromkeys(categories, 0)
    fp = dict.fromkeys(categories, 0)
    fn = dict.fromkeys(categories, 0)
    errors: list[str] = []
    for r in rows:
        gold = set(r["labels"])
        pred = predict(detectors, r["text"])
        for c in categories:
            if c in pred and c in gold:
                tp[c] += 1
            elif c in pred:
                fp[c] += 1
                errors.append(f"FP {c:<24} {r['text']}")
            elif c in gold:
                fn[c] += 1
                errors.append(f"FN {c:<24} {r['text']}")
    print(f"dev set: {len(rows)} texts, {sum(1 for r in rows if not r['labels'])} with no label")
    print(f"{'category':<24} {'support':>7} {'precision':>9} {'recall':>7} {'f1':>6}  bar")
    ok = True
    for c in categories:
        support = tp[c] + fn[c]
        p = tp[c] / (tp[c] + fp[c]) if tp[c] + fp[c] else (1.0 if support == 0 else 0.0)
        rc = tp[c] / support if support else 1.0
        f1 = 2 * p * rc / (p + rc) if p + rc else 0.0
        bar = ""
        if c in BAR:
            bp, br = BAR[c]
            passed = p >= bp and rc >= br
            ok &= passed
            bar = f"P>={bp} R>={br}: {'pass' if passed else 'FAIL'}"
        print(f"{c:<24} {support:>7} {p:>9.3f} {rc:>7.3f} {f1:>6.3f}  {bar}")
    if show_errors:
        print()
        for e in sorted(errors):
            print(e)
    return ok


def throughput(detectors, rows: list[dict], n: int) -> float:
    texts = [r["text"] for r in rows if len(r["text"]) <= 300]
    rng = random.Random(4)
    stream = []
    while len(stream) < n:
        batch = texts[:]
        rng.shuffle(batch)
        stream.extend(batch)
    stream = stream[:n]
    for t in stream[:200]:  # warm up: compile automata, fill the folding tables
        for d in detectors:
            d.detect(t)
    # copies, so no text is the previous one (the per-thread analysis cache only spans one text)
    stream = [("" + t + " ")[:-1] for t in stream]
    start = time.perf_counter()
    hits = 0
    for t in stream:
        for d in detectors:
            hits += len(d.detect(t))
    elapsed = time.perf_counter() - start
    rate = n / elapsed
    avg = sum(map(len, stream)) / len(stream)
    print(f"throughput: {rate:,.0f} comments/s through {len(detectors)} detectors, one thread "
          f"({n} comments, mean {avg:.0f} chars, {hits} hits, {elapsed:.2f} s)  bar >= 20,000: "
          f"{'pass' if rate >= 20000 else 'FAIL'}")
    return rate


def hostile(detectors, quick: bool) -> None:
    rng = random.Random(7)
    alphabet = "abcdefghijklmnopqrstuvwxyz     .,!?'0123456789@$*-"
    cases = {
        "random ascii": lambda n: "".join(rng.choice(alphabet) for _ in range(n)),
        "one letter repeated": lambda n: "a" * n,
        "spaced letters": lambda n: ("f u c k " * (n // 8 + 1))[:n],
        "profanity repeated": lambda n: ("fuck " * (n // 5 + 1))[:n],
        "digits and dashes": lambda n: ("555-123-4567 " * (n // 13 + 1))[:n],
        "vote for Names": lambda n: ("Vote for Jane Smith " * (n // 20 + 1))[:n],
        "non-ascii mix": lambda n: ("fuсk ｆｕｃｋ ß 中文 f\u200buck 🙂 " * (n // 30 + 1))[:n],
        "url-ish": lambda n: ("http://a.co/" + "a." * (n // 2))[:n],
        "emails": lambda n: ("a@b.co " * (n // 7 + 1))[:n],
    }
    sizes = (100_000, 200_000) if quick else (250_000, 500_000, 1_000_000)
    print("hostile inputs (seconds through all detectors; linear growth expected):")
    for name, make in cases.items():
        times = []
        for n in sizes:
            text = make(n)
            start = time.perf_counter()
            for d in detectors:
                d.detect(text)
            times.append(time.perf_counter() - start)
        ratio = times[-1] / times[0] if times[0] > 0 else float("nan")
        cells = "  ".join(f"{n // 1000:>5} KB {t:6.3f}" for n, t in zip(sizes, times))
        print(f"  {name:<22} {cells}   x{sizes[-1] // sizes[0]} size -> x{ratio:.1f} time")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--errors", action="store_true", help="list false positives and negatives")
    ap.add_argument("--quick", action="store_true", help="smaller throughput and hostile-input runs")
    ap.add_argument("--no-hostile", action="store_true", help="skip the hostile-input timings")
    args = ap.parse_args(argv)
    detectors = default_detectors()
    rows = load()
    ok = quality(detectors, rows, args.errors)
    print()
    rate = throughput(detectors, rows, 5000 if args.quick else 30000)
    if not args.no_hostile:
        print()
        hostile(detectors, args.quick)
    return 0 if ok and rate >= 20000 else 1


if __name__ == "__main__":
    sys.exit(main())
