"""Quality and speed of policykit's built-in detectors.

    .venv/bin/python benchmarks/bench_detectors.py            # quality tables, throughput, the real corpus if fetched
    .venv/bin/python benchmarks/bench_detectors.py --errors   # also list every false positive / negative
    .venv/bin/python benchmarks/bench_detectors.py --quick    # smaller throughput runs
    .venv/bin/python benchmarks/bench_detectors.py --corpus labeled_data.csv   # the real corpus, see below

Quality: per-category precision and recall on the labelled development set
(tests/data/detector_devset.jsonl: {"text": ..., "labels": [...]}), a text counting as positive for a
category when any built-in detector reports a hit of it; the same for held-out set 1
(tests/data/detector_holdout.jsonl: written after the first tuning; its misses have since been looked
at, so it is no longer unseen) and held-out set 2 (tests/data/detector_holdout2.jsonl: written and
labelled before the detectors were run on it, and not tuned on).
Throughput: comments per CPU-second through *all* built-in detectors (each detector called once per
comment, as the evaluator does), one thread, on mixed streams of comments of at most 300 characters
drawn from the dev set: a typical mix (20% flagged), the dev set's own mix, flagged only. Each stream
is timed for several rounds (CPU time of this process, so other work on a shared machine counts less,
though not nothing) and the median and the best round are printed, each mix against 20,000 comments
per second on its median; the exit status follows the issue's bar: the dev-set quality bar and the
typical mix.
Real text: the Davidson et al. (2017) tweets, fetched once by benchmarks/fetch_corpus.py (never by the
tests, never committed), judged by load("clinton").evaluate and by the detectors alone, with F1 and
tweets per CPU-second (see `corpus`). Hostile inputs: benchmarks/bench_hostile_text.py.
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
HOLDOUT = ROOT / "tests" / "data" / "detector_holdout.jsonl"
HOLDOUT2 = ROOT / "tests" / "data" / "detector_holdout2.jsonl"
HOLDOUT3 = ROOT / "tests" / "data" / "detector_holdout3.jsonl"
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


def quality(detectors, rows: list[dict], show_errors: bool, title: str = "dev set", bar: bool = True) -> bool:
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
    print(f"{title}: {len(rows)} texts, {sum(1 for r in rows if not r['labels'])} with no label")
    print(f"{'category':<24} {'support':>7} {'precision':>9} {'recall':>7} {'f1':>6}  bar")
    ok = True
    for c in categories:
        support = tp[c] + fn[c]
        p = tp[c] / (tp[c] + fp[c]) if tp[c] + fp[c] else (1.0 if support == 0 else 0.0)
        rc = tp[c] / support if support else 1.0
        f1 = 2 * p * rc / (p + rc) if p + rc else 0.0
        note = ""
        if bar and c in BAR:
            bp, br = BAR[c]
            passed = p >= bp and rc >= br
            ok &= passed
            note = f"P>={bp} R>={br}: {'pass' if passed else 'FAIL'}"
        print(f"{c:<24} {support:>7} {p:>9.3f} {rc:>7.3f} {f1:>6.3f}  {note}")
    if show_errors:
        print()
        for e in sorted(errors):
            print(e)
    return ok


def _stream(rows: list[dict], n: int, flagged_share: float | None, seed: int) -> list[str]:
    """n comments of at most 300 characters drawn from the dev set; with `flagged_share`, that share
    of them carries some label and the rest none, otherwise the dev set's own mix."""
    rng = random.Random(seed)
    texts = [r for r in rows if len(r["text"]) <= 300]
    clean = [r["text"] for r in texts if not r["labels"]]
    flagged = [r["text"] for r in texts if r["labels"]]
    out = []
    for _ in range(n):
        if flagged_share is None:
            out.append(rng.choice(texts)["text"])
        else:
            out.append(rng.choice(flagged if rng.random() < flagged_share else clean))
    return out


def _rate(detectors, stream: list[str], rounds: int) -> tuple[float, float, int]:
    """(median, best) comments per CPU-second over `rounds` timed rounds, and the hits of one round."""
    for t in stream[:300]:  # warm up: compile automata, fill the folding tables
        for d in detectors:
            d.detect(t)
    rates = []
    hits = 0
    for _ in range(rounds):
        # fresh copies: the per-thread analysis cache only ever spans the detectors of one text
        copies = [("" + t + " ")[:-1] for t in stream]
        cpu0 = time.process_time()
        hits = 0
        for t in copies:
            for d in detectors:
                hits += len(d.detect(t))
        rates.append(len(stream) / max(time.process_time() - cpu0, 1e-9))
    rates.sort()
    return rates[len(rates) // 2], rates[-1], hits


def throughput(detectors, rows: list[dict], n: int, rounds: int) -> float:
    """Comments per CPU-second (per core: CPU time of this one thread, whatever else the machine
    runs) through every built-in detector, each called once per comment as the evaluator does.
    Returns the typical mix's median (the issue's bar is about typical comments); the others are
    printed against the same 20,000."""
    print(f"throughput through all {len(detectors)} detectors, one thread, comments <= 300 chars, "
          f"{n} per stream, {rounds} rounds (median and best round, comments per CPU-second):")
    typical = 0.0
    for label, share in (("typical mix: 20% flagged, 80% clean", 0.2),
                         ("dev set mix", None),
                         ("flagged only (worst case)", 1.0)):
        stream = _stream(rows, n, share, seed=4)
        median, best, hits = _rate(detectors, stream, rounds)
        avg = sum(map(len, stream)) / len(stream)
        flagged = sum(1 for t in stream if t in _FLAGGED) / len(stream)
        print(f"  {label:<38} median {median:>9,.0f}   best {best:>9,.0f}   "
              f"({flagged:.0%} flagged, mean {avg:.0f} chars, {hits} hits)  "
              f"bar >= 20,000: {'pass' if median >= 20000 else 'FAIL'}")
        if share == 0.2:
            typical = median
    return typical


_FLAGGED: set[str] = set()


def corpus(path: Path, limit: int | None) -> None:
    """F1 and speed on real text no one here wrote: the Davidson et al. (2017) tweets (fetched by
    benchmarks/fetch_corpus.py), a tweet counting as offensive when its majority label is hate speech
    or offensive language. Judged as comments by ``load("clinton").evaluate`` (offensive: any decision
    but allow) and by the detectors alone (offensive: a hit of profanity, obscene, hate speech or
    harassment). Loading the policy and building the engine happen before the timed window. When
    better-profanity or alt-profanity-check are installed, they run on the same tweets in the same run."""
    import csv

    from policykit import load as load_policy

    with path.open(encoding="utf-8", newline="") as fh:
        rows = [(r["tweet"], r["class"] in ("0", "1")) for r in csv.DictReader(fh)]
    if limit:
        rows = rows[:limit]
    texts = [t for t, _ in rows]
    gold = [g for _, g in rows]
    print(f"corpus {path.name}: {len(rows)} tweets, {sum(gold)} offensive or hateful")
    policy = load_policy("clinton")
    detectors = default_detectors()
    offensive = {"profanity", "obscene", "hate_speech", "harassment", "sexual_harassment", "discrimination"}
    policy.evaluate({"kind": "comment", "text": "warm up the engine: what the hell"})

    def by_policy(batch):
        return [policy.evaluate({"kind": "comment", "text": t}).decision != "allow" for t in batch]

    def by_detectors(batch):
        return [any(h.category in offensive for d in detectors for h in d.detect(t)) for t in batch]

    systems = [("clinton policy (evaluate)", by_policy), ("policykit detectors alone", by_detectors)]
    try:
        from better_profanity import profanity as bp

        bp.load_censor_words()
        systems.append(("better-profanity", lambda batch: [bp.contains_profanity(t) for t in batch]))
    except ImportError:
        print("  (better-profanity not installed: not compared)")
    try:
        from profanity_check import predict as pc_predict

        systems.append(("alt-profanity-check, batched", lambda batch: [bool(x) for x in pc_predict(batch)]))
    except ImportError:
        print("  (alt-profanity-check not installed: not compared)")
    print(f"  {'system':<32}{'precision':>10}{'recall':>8}{'f1':>7}{'tweets/s':>12}{'us/tweet':>10}")
    for name, judge in systems:
        cpu0 = time.process_time()
        pred = judge(texts)
        cpu = max(time.process_time() - cpu0, 1e-9)
        tp = sum(1 for p, g in zip(pred, gold) if p and g)
        fp = sum(1 for p, g in zip(pred, gold) if p and not g)
        fn = sum(1 for p, g in zip(pred, gold) if g and not p)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        print(f"  {name:<32}{prec:>10.3f}{rec:>8.3f}{f1:>7.3f}{len(texts) / cpu:>12,.0f}{cpu / len(texts) * 1e6:>10.1f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--errors", action="store_true", help="list false positives and negatives")
    ap.add_argument("--quick", action="store_true", help="smaller throughput runs")
    ap.add_argument("--corpus", type=Path, default=None,
                    help="the Davidson et al. tweets CSV (benchmarks/fetch_corpus.py); default: the cache's copy")
    ap.add_argument("--corpus-limit", type=int, default=None, help="only the first N tweets")
    ap.add_argument("--rounds", type=int, default=7, help="timed rounds per stream (median and best printed)")
    args = ap.parse_args(argv)
    detectors = default_detectors()
    rows = load()
    ok = quality(detectors, rows, args.errors)
    print()
    if HOLDOUT.exists():
        quality(detectors, load(HOLDOUT), args.errors,
                "held-out set 1 (written after the first tuning; its misses were since looked at and the "
                "patterns generalised: no longer unseen)", bar=False)
        print()
    if HOLDOUT2.exists():
        quality(detectors, load(HOLDOUT2), args.errors,
                "held-out set 2 (written before the detectors were run on it; not tuned on)", bar=False)
        print()
    if HOLDOUT3.exists():
        quality(detectors, load(HOLDOUT3), args.errors,
                "held-out set 3 (sales offers and drug deals without ad words, written before tuning; the "
                "patterns were then generalised for these kinds: no longer unseen)", bar=False)
        print()
    _FLAGGED.update(r["text"] for r in rows if r["labels"])
    rate = throughput(detectors, rows, 5000 if args.quick else 20000, args.rounds)
    path = args.corpus
    if path is None:
        from policykit.cache import cache_dir

        base = cache_dir()
        path = base / "davidson2017.csv" if base is not None else None
    print()
    if path is not None and path.is_file():
        corpus(path, args.corpus_limit)
    else:
        print("corpus: not found (run benchmarks/fetch_corpus.py once, or pass --corpus PATH)")
    return 0 if ok and rate >= 20000 else 1


if __name__ == "__main__":
    sys.exit(main())
