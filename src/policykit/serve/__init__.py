"""`policykit serve`: the HTTP decision API (FastAPI on uvicorn; see docs/serve.md).

    from policykit.serve import PolicySet, create_app
    policies = PolicySet(["nyc", "clinton"]); policies.load()
    app = create_app(policies)            # an ASGI app: run it with uvicorn, or `policykit serve`

Needs the `serve` extra (`pip install 'policykit[serve]'`).
"""

from __future__ import annotations

from .app import ApiError, Limits, create_app
from .decision_log import DecisionLog
from .registry import PolicySet, Served

__all__ = ["ApiError", "DecisionLog", "Limits", "PolicySet", "Served", "create_app"]
