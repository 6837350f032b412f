"""The hooks a policykit plugin may implement (pluggy, project name `policykit`).

A plugin is any module or object with functions marked `@policykit.hookimpl` and named like the
specifications below. Installed packages are found through the `policykit` entry-point group; an
embedder may also call `policykit.plugins.register(obj)`. See docs/plugins.md for a worked example.

Every hook is optional. The registration hooks are called once, lazily, the first time policykit needs
what they provide; names must be unique across plugins (a clash is an error naming both plugins).
Detectors, functions and observers run inline, on the evaluating thread. Each detector and function
call is timed against `policykit.limits` `plugin_budget` (0.5 s by default): a slower result counts as
failed and is reported, and after `plugin_strikes` such calls in a row the plugin is suspended for
`plugin_cooldown` seconds (calls are not interrupted, so no thread is left behind; see plugins._Budget).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import pluggy

if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path

    from .compiler import Policy
    from .detectors import Detector
    from .platforms import Adapter
    from .verdict import Verdict

hookspec = pluggy.HookspecMarker("policykit")
hookimpl = pluggy.HookimplMarker("policykit")


@hookspec
def policykit_register_platforms() -> "Sequence[Adapter]":
    """Platform adapters, like the built-in ones in `policykit.platforms`.

    Each adapter has a `name` (what `from_platform(name, payload)` and `policykit check --platform NAME`
    accept), `facts` (a `PlatformFacts`) and `adapt(payload, **options) -> list[dict]` returning
    contract-shaped event dicts. A name may not shadow a built-in platform.
    """


@hookspec
def policykit_register_jurisdictions() -> "Mapping[str, str | Path]":
    """Named policies: name → path of a `.pol` file, so `policykit.load(name)` finds it.

    The policy may declare `param`s; callers fill them with `load(name, params={...})`. A name may
    not shadow a bundled policy.
    """


@hookspec
def policykit_register_detectors() -> "Sequence[Detector]":
    """Content detectors (the `Detector` protocol of `policykit.detectors.base`).

    Their `categories` join the known categories, so policies may write `has NEW_CATEGORY`. They run
    beside the built-in detectors in every policy compiled after the plugin is registered. `detect`
    returns a list of `Hit`s in the declared categories, with offsets inside the text and finite
    scores. A detector that raises, returns anything else or runs over its time budget is reported in
    the verdict's `errors` (decision at least `review`), and what it would have found is unknown.
    """


@hookspec
def policykit_register_functions() -> "Mapping[str, Callable[..., Any]]":
    """Functions that `.pol` conditions may call: `word_count(text) > 200`.

    A function receives the evaluated arguments (never None: an unknown argument makes the call
    unknown without calling it) and must return a bool, str, finite number, None (unknown) or list of
    those.
    Anything else, or an exception, is reported in the verdict's `errors` and the rule yields `review`.
    """


@hookspec
def policykit_register_action_types() -> "Mapping[str, str]":
    """Action types beyond the contract's vocabulary: name → what it is (`{"pin_comment": "…"}`).

    Policies may then target them (`review action pin_comment`); a type nobody declares is error PK115.
    """


@hookspec
def policykit_observe_verdict(policy: "Policy", event: Any, verdict: "Verdict") -> None:
    """Called after every evaluation, for logging and metrics. The return value is ignored.

    Each observer receives its own deep copy of the verdict, so nothing it does changes the verdict
    the caller gets (or what another observer sees). An observer that raises is logged
    (logger `policykit.plugins`) and counted (`policykit.plugins.observer_failures()`); evaluation goes on.
    """
