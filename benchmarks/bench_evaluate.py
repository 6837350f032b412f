"""Compile time and per-decision time, for label-only and text events.

Run: .venv/bin/python benchmarks/bench_evaluate.py
Prints the median (and the best) of many repetitions on one core; nothing here is asserted by the test
suite. On a shared machine the median moves with the load; the best run shows what the code costs.
"""

from __future__ import annotations

import statistics
import time

import policykit
from policykit.models import parse_event

TEN_RULES = '''policy bench "Ten-rule benchmark policy"
clause 1 "Profane language or content;"
  remove comment when has profanity
clause 2 "Discrimination"
  remove comment when has discrimination, hate_speech
clause 3 "Sexual harassment content"
  remove comment when has sexual_harassment
clause 4 "Solicitations"
  remove comment when has commercial_solicitation
clause 5 "Political endorsement"
  remove comment when has political_endorsement
clause 6 "Illegal activity"
  remove comment when has illegal_activity
clause 7 "Public safety"
  remove comment when has public_safety_risk
clause 8 "Defamation"
  remove comment when has defamation
clause 9 "Threats"
  remove comment when has threat, violence
clause 10 "Confidential"
  remove comment when has confidential
'''


def median_us(fn, repeat: int = 40, number: int = 2000) -> str:
    """Median and best per-call time in microseconds over `repeat` runs of `number` calls."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number * 1e6)
    return f"{statistics.median(samples):8.2f} µs median ({min(samples):.2f} best)"


def main() -> None:
    start = time.perf_counter()
    policy = policykit.compile_text(TEN_RULES, "bench.pol")
    print(f"compile 10-rule policy:            {(time.perf_counter() - start) * 1e3:8.2f} ms")
    for name in policykit.policies():
        from policykit.loader import known_policies
        from policykit.loader import _layers
        from policykit.compiler import compile_layers
        layers, texts = _layers(known_policies()[name])
        start = time.perf_counter()
        compiled = compile_layers(layers, texts=texts)
        print(f"compile {name:<26} {(time.perf_counter() - start) * 1e3:8.2f} ms  ({len(compiled.rules)} rules)")

    label_dict = {"kind": "comment", "labels": ["threat"]}
    label_event = parse_event(label_dict)
    clean_event = parse_event({"kind": "comment", "labels": ["off_topic"]})
    text = "Thanks for fixing the streetlight on Elm Street so quickly, great work by the crew this week!"
    text_event = parse_event({"kind": "comment", "text": text})
    print(f"label-only decision (event model): {median_us(lambda: policy.evaluate(label_event))}")
    print(f"label-only, no rule fires:         {median_us(lambda: policy.evaluate(clean_event))}")
    print(f"label-only decision (dict input):  {median_us(lambda: policy.evaluate(label_dict))}"
          "  (includes pydantic validation)")
    print(f"text decision, all detectors:      {median_us(lambda: policy.evaluate(text_event), number=500)}")
    clinton = policykit.load("clinton")
    print(f"clinton.pol, text comment:         "
          f"{median_us(lambda: clinton.evaluate(text_event), number=500)}")


if __name__ == "__main__":
    main()
