"""Run the hostile-input fuzzers long and print what they find (issue 14's bar).

    .venv/bin/python benchmarks/fuzz.py --minutes 5            # policies and events, half the time each
    .venv/bin/python benchmarks/fuzz.py --minutes 1 --only events

The strategies are tests/hostile/hostile_strategies.py, the ones the suite runs at a small budget.
Reported: exceptions other than PolicyError (policies) or EventError (events), inputs slower than
--slow seconds (the bar is 2 s for any input under 16 MiB), and files opened outside the repository,
the Python installation and policykit's cache while policies compile (an audit hook watches every `open`).
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
import traceback
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "hostile"))

import policykit  # noqa: E402
from policykit.cache import cache_dir  # noqa: E402
from policykit.errors import EventError, PolicyError  # noqa: E402

from hostile_strategies import events, policy_texts  # noqa: E402

# The repository, Python, and policykit's own on-disk cache (the built detector engine and parser).
_CACHE = cache_dir()
ALLOWED = tuple(str(p) for p in {ROOT, Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(),
                                 Path(policykit.__file__).resolve().parents[1],
                                 *([_CACHE.resolve()] if _CACHE is not None else [])})
_OUTSIDE: list[str] = []
_WATCHING = [False]


def _audit(event: str, args: tuple) -> None:
    if _WATCHING[0] and event == "open" and isinstance(args[0], (str, Path)):
        path = str(Path(args[0]).resolve())
        if not path.startswith(ALLOWED):
            _OUTSIDE.append(path)


def _check_policy(text: str) -> None:
    _WATCHING[0] = True
    try:
        policykit.compile_text(text, "fuzz.pol").evaluate({"kind": "comment", "text": "hello"})
    except PolicyError:
        pass
    finally:
        _WATCHING[0] = False


POLICIES = [policykit.load(n) for n in ("clinton", "cottonwood", "minnesota_model", "nyc", "syracuse")]


def _check_event(event: object) -> None:
    for policy in POLICIES:
        try:
            policy.evaluate(event).model_dump_json()
        except EventError:
            pass


def run(name: str, strategy, check, seconds: float, slow: float) -> None:
    found: collections.Counter[str] = collections.Counter()
    examples: dict[str, str] = {}
    slowest: list[tuple[float, str]] = []
    count = 0
    deadline = time.monotonic() + seconds
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Hypothesis warns that .example() is for interactive use
        while time.monotonic() < deadline:
            value = strategy.example()
            count += 1
            started = time.perf_counter()
            try:
                check(value)
            except Exception as exc:  # what the bar counts: anything but the documented errors
                key = f"{type(exc).__name__}: {str(exc)[:120]}"
                found[key] += 1
                examples.setdefault(key, repr(value)[:300] + "\n" + traceback.format_exc(limit=-3))
            elapsed = time.perf_counter() - started
            if elapsed > slow:
                slowest.append((elapsed, repr(value)[:200]))
    print(f"{name}: {count:,} inputs in {seconds:.0f} s; {sum(found.values())} unexpected exceptions, "
          f"{len(slowest)} slower than {slow} s")
    for key, n in found.most_common():
        print(f"  {n} × {key}\n    {examples[key]}")
    for elapsed, value in sorted(slowest, reverse=True)[:10]:
        print(f"  slow {elapsed:.2f} s: {value}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--only", choices=["policies", "events"])
    parser.add_argument("--slow", type=float, default=2.0, help="report inputs slower than this (seconds)")
    args = parser.parse_args()
    sys.addaudithook(_audit)
    _check_policy('policy warm "W"\nclause 1 "x"\n  deny comment when has profanity\n')  # grammar, detectors
    targets = [("policies", policy_texts(), _check_policy), ("events", events(), _check_event)]
    targets = [t for t in targets if args.only in (None, t[0])]
    for name, strategy, check in targets:
        run(name, strategy, check, args.minutes * 60 / len(targets), args.slow)
    print(f"files opened outside the repository, Python and the cache: {len(set(_OUTSIDE))}")
    for path in sorted(set(_OUTSIDE))[:20]:
        print(f"  {path}")
    print("(the machine may be loaded; times are for this run only)")


if __name__ == "__main__":
    main()
