"""policykit: city social-media policy as code.

    import policykit
    policy = policykit.load("nyc")
    verdict = policy.evaluate({"kind": "comment", "text": "…", "labels": ["obscene"]})
    verdict.decision, verdict.findings[0].citations[0].text

See docs/api.md for the whole API and docs/language.md for the policy language.
"""

from __future__ import annotations

from .compiler import Policy
from .errors import Diagnostic, EventError, PolicyError, PolicyNotFound
from .loader import compile_text, evaluate, load, policies
from .models import parse_event
from .verdict import Verdict


def evaluate_many(events, policy: "str | Policy" = "nyc", params=None):
    """Convenience: judge many events against one policy, lazily and in order."""
    compiled = policy if isinstance(policy, Policy) else load(policy, params)
    return compiled.evaluate_many(events)


def __getattr__(name: str):
    """`policykit.from_platform` is `policykit.platforms.from_platform`, imported when first used (the
    adapters are not loaded by `import policykit`)."""
    if name == "from_platform":
        from .platforms import from_platform

        return from_platform
    raise AttributeError(f"module 'policykit' has no attribute {name!r}")


__all__ = ["Diagnostic", "EventError", "Policy", "PolicyError", "PolicyNotFound", "Verdict", "compile_text",
           "evaluate", "evaluate_many", "from_platform", "load", "parse_event", "policies"]
__version__ = "0.1.0"
