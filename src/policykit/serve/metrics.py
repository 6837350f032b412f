"""Prometheus metrics of a server: decisions by policy and outcome, request latency, reloads.

Each app has its own `CollectorRegistry` (not the process-global one), so two apps in one process
(tests) count separately. Label values are bounded: policy names are those served, outcomes are the
four effects plus `malformed`, routes are the route templates (`unmatched` for any other path).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

# Decisions take microseconds and requests about a millisecond; the buckets resolve both and a slow tail.
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The server's metrics; `decided` is on the hot path, so its labelled children are cached."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.decisions = Counter("policykit_decisions", "Events judged, by policy and outcome (the verdict's "
                                 "decision, or `malformed` for an event that was refused)",
                                 ("policy", "outcome"), registry=self.registry)
        self.requests = Histogram("policykit_request_duration_seconds", "HTTP request latency, from the "
                                  "first byte of the request to the last of the response",
                                  ("route", "method", "status"), buckets=LATENCY_BUCKETS, registry=self.registry)
        self.reloads = Counter("policykit_policy_reloads", "Policy reloads after a file changed, by result "
                               "(ok, or error: the last good version stayed in service)",
                               ("policy", "result"), registry=self.registry)
        self.policies = Gauge("policykit_policies_served", "Policies in service", registry=self.registry)
        self.logged = Counter("policykit_decision_log_records", "Verdicts recorded in the decision log "
                              "(duplicates: redeliveries answered with the verdict recorded before)",
                              ("duplicate",), registry=self.registry)
        self._children: dict[tuple[str, str], Counter] = {}
        self._latency: dict[tuple[str, str, int], Histogram] = {}

    def decided(self, policy: str, outcome: str, count: int = 1) -> None:
        child = self._children.get((policy, outcome))
        if child is None:
            child = self._children[(policy, outcome)] = self.decisions.labels(policy, outcome)
        child.inc(count)

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        child = self._latency.get(key)
        if child is None:
            child = self._latency[key] = self.requests.labels(route, method, str(status))
        child.observe(seconds)

    def exposition(self) -> tuple[bytes, str]:
        """The text format Prometheus scrapes, and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


__all__ = ["LATENCY_BUCKETS", "Metrics"]
