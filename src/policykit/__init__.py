"""policykit: city social-media policy as code.

    import policykit
    policy = policykit.load("nyc")
    verdict = policy.evaluate({"kind": "comment", "text": "…", "labels": ["obscene"]})
    verdict.decision, verdict.findings[0].citations[0].text

See docs/api.md for the whole API and docs/language.md for the policy language.

The names below are imported on first use (PEP 562): ``import policykit`` alone loads neither the
compiler, the detectors nor pydantic, so the command line starts at once and a program pays only for
what it uses.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .compiler import Policy
    from .errors import Diagnostic, EventError, PolicyError, PolicyNotFound
    from .loader import compile_text, evaluate, load, policies
    from .models import parse_event
    from .platforms import from_platform
    from .verdict import Verdict

# public name → the module that defines it
_LAZY = {
    "Policy": "compiler",
    "Diagnostic": "errors", "EventError": "errors", "PolicyError": "errors", "PolicyNotFound": "errors",
    "compile_text": "loader", "evaluate": "loader", "load": "loader", "policies": "loader",
    "parse_event": "models",
    "from_platform": "platforms",  # a native platform payload → events (docs/platforms.md)
    "Verdict": "verdict",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'policykit' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # the next lookup is an ordinary one
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


def evaluate_many(events, policy: "str | Policy" = "nyc", params=None):
    """Convenience: judge many events against one policy, lazily and in order."""
    from .compiler import Policy
    from .loader import load

    compiled = policy if isinstance(policy, Policy) else load(policy, params)
    return compiled.evaluate_many(events)


__all__ = ["Diagnostic", "EventError", "Policy", "PolicyError", "PolicyNotFound", "Verdict", "compile_text",
           "evaluate", "evaluate_many", "from_platform", "load", "parse_event", "policies"]
__version__ = "0.1.0"
