"""The plugin manager: finds plugins, collects what they register, and calls verdict observers.

Plugins are found the way pytest and datasette find theirs: through the `policykit` entry-point group
of installed packages (each entry point is loaded on its own, so one broken plugin is reported by
name and skipped instead of breaking policykit), or registered explicitly by an embedder with
`policykit.plugins.register(obj)`. Discovery happens lazily, the first time policykit needs a plugin
registry (compiling a policy, looking a policy or platform up by name).

What plugins register is collected hook implementation by hook implementation, so every name is
known with the plugin that gave it: two plugins registering the same name is a `PluginConflict`
naming both. See hookspecs.py for the hooks and docs/plugins.md for a worked example.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterable

import pluggy

from . import hookspecs
from .hookspecs import hookimpl

__all__ = ["GuardedDetector", "PluginConflict", "PluginError", "PluginFailure", "PluginProblem", "detectors", "discover", "functions", "hookimpl",
           "jurisdictions", "list_plugins", "manager", "observer_failures", "platforms", "plugin_errors",
           "register", "unregister"]

GROUP = "policykit"
log = logging.getLogger("policykit.plugins")

_LOCK = threading.RLock()
_PM: pluggy.PluginManager | None = None
_DISCOVERED = False
_PROBLEMS: list["PluginProblem"] = []
_REGISTRIES: dict[str, Any] = {}
_OBSERVER_FAILURES = 0
_VERSIONS: dict[str, str] = {}

#: True when any verdict observer is registered; the evaluator checks it so the hot path stays fast.
observing = False


class PluginError(Exception):
    """A plugin gave policykit something it cannot use."""


class PluginConflict(PluginError, ValueError):
    """Two plugins (or a plugin and a built-in) registered the same name."""

    def __init__(self, what: str, name: str, first: str, second: str) -> None:
        self.what, self.name, self.plugins = what, name, (first, second)
        super().__init__(f"{what} `{name}` is registered by both plugin {first!r} and plugin {second!r}; "
                         f"uninstall or unregister one of them")


@dataclass(frozen=True)
class PluginProblem:
    """A plugin that failed at discovery or in a registration hook, and was skipped."""

    plugin: str
    message: str

    def __str__(self) -> str:
        return f"{self.plugin}: {self.message}"


# ---------------------------------------------------------------- the manager and discovery

def manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, with installed plugins discovered on first use."""
    global _PM
    with _LOCK:
        if _PM is None:
            _PM = pluggy.PluginManager(GROUP)
            _PM.add_hookspecs(hookspecs)
        if not _DISCOVERED:
            discover()
        return _PM


def _entry_points() -> Iterable[Any]:
    return metadata.entry_points(group=GROUP)


def discover(entry_points: Iterable[Any] | None = None) -> list[PluginProblem]:
    """Load each `policykit` entry point on its own; a failing one is recorded and skipped.

    pluggy's `load_setuptools_entrypoints` stops at the first plugin that fails to import; loading one
    by one keeps a broken plugin from taking the working ones (and policykit) down with it.
    `entry_points` lets tests pass fake entry points. Returns the problems found this time.
    """
    global _DISCOVERED, _PM
    with _LOCK:
        _DISCOVERED = True
        if _PM is None:
            _PM = pluggy.PluginManager(GROUP)
            _PM.add_hookspecs(hookspecs)
        found: list[PluginProblem] = []
        for ep in (_entry_points() if entry_points is None else entry_points):
            name = getattr(ep, "name", repr(ep))
            if _PM.get_plugin(name) is not None or _PM.is_blocked(name):
                continue
            try:
                plugin = ep.load()
                _PM.register(plugin, name=name)
                version = getattr(getattr(ep, "dist", None), "version", None)
                if version:
                    _VERSIONS[name] = version
            except Exception as exc:  # any failure at import or registration: report, skip, go on
                found.append(PluginProblem(name, f"could not be loaded ({_describe(exc)}); skipped"))
                log.warning("policykit plugin %s could not be loaded: %s", name, _describe(exc))
        _PROBLEMS.extend(found)
        _changed()
        return found


def register(plugin: Any, name: str | None = None) -> str:
    """Register a plugin object or module explicitly (for embedders and tests); returns its name."""
    with _LOCK:
        registered = manager().register(plugin, name=name)
        if registered is None:
            raise PluginError(f"plugin {name or plugin!r} is blocked or already registered")
        _changed()
        return registered


def unregister(plugin: Any = None, name: str | None = None) -> None:
    """Remove a plugin registered earlier (by object or by name)."""
    with _LOCK:
        manager().unregister(plugin, name=name)
        _changed()


def _changed() -> None:
    """Forget what was collected: registries, compiled policies (they hold detectors and functions)."""
    global observing
    _REGISTRIES.clear()
    if _PM is not None:
        observing = any(not _is_wrapper(i) for i in _PM.hook.policykit_observe_verdict.get_hookimpls())
    from . import loader
    loader.clear_cache()


def plugin_errors() -> list[PluginProblem]:
    """Plugins that failed at discovery or in a registration hook (and were skipped)."""
    manager()
    with _LOCK:
        for what in ("platforms", "jurisdictions", "detectors", "functions"):
            try:
                _registry(what)
            except PluginError:
                pass
        return list(_PROBLEMS)


def observer_failures() -> int:
    """How many times a verdict observer raised since the process started."""
    return _OBSERVER_FAILURES


# ---------------------------------------------------------------- collecting registrations

def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _is_wrapper(impl: Any) -> bool:
    return bool(getattr(impl, "hookwrapper", False) or getattr(impl, "wrapper", False))


def _call(impl: Any, **kwargs: Any) -> Any:
    return impl.function(*[kwargs[a] for a in impl.argnames])


def _results(hook: str) -> list[tuple[str, Any]]:
    """(plugin name, result) of every implementation of a registration hook; failures are recorded."""
    pm = manager()
    found = []
    for impl in reversed(getattr(pm.hook, hook).get_hookimpls()):  # registration order
        if _is_wrapper(impl):
            continue
        try:
            result = _call(impl)
        except Exception as exc:
            problem = PluginProblem(impl.plugin_name, f"{hook} raised {_describe(exc)}; what it registers was skipped")
            if problem not in _PROBLEMS:
                _PROBLEMS.append(problem)
                log.warning("policykit plugin %s", problem)
            continue
        if result is not None:
            found.append((impl.plugin_name, result))
    return found


def _named(what: str, items: Iterable[tuple[str, str, Any]], taken: dict[str, str]) -> dict[str, tuple[str, Any]]:
    """name → (plugin, value), raising PluginConflict when a name is given twice."""
    table: dict[str, tuple[str, Any]] = {}
    for plugin, name, value in items:
        if name in taken:
            raise PluginConflict(what, name, taken[name], plugin)
        if name in table:
            raise PluginConflict(what, name, table[name][0], plugin)
        table[name] = (plugin, value)
    return table


def _registry(what: str) -> dict[str, tuple[str, Any]]:
    with _LOCK:
        if what not in _REGISTRIES:
            _REGISTRIES[what] = _COLLECTORS[what]()
        return _REGISTRIES[what]


def _collect_platforms() -> dict[str, tuple[str, Any]]:
    from .platforms import BUILTIN_ADAPTERS
    items = []
    for plugin, adapters in _results("policykit_register_platforms"):
        for adapter in adapters:
            name = getattr(adapter, "name", None)
            if not isinstance(name, str) or not callable(getattr(adapter, "adapt", None)):
                raise PluginError(f"plugin {plugin!r} registered a platform adapter without a `name` "
                                  f"and an `adapt(payload, **options)` method: {adapter!r}")
            items.append((plugin, name.lower(), adapter))
    return _named("platform", items, {n: "policykit (built-in)" for n in BUILTIN_ADAPTERS})


def _collect_jurisdictions() -> dict[str, tuple[str, Any]]:
    from .loader import bundled_dir
    bundled = {p.stem: "policykit (bundled)" for p in bundled_dir().glob("*.pol")}
    items = [(plugin, str(name), Path(path)) for plugin, mapping in _results("policykit_register_jurisdictions")
             for name, path in dict(mapping).items()]
    return _named("jurisdiction", items, bundled)


def _collect_detectors() -> dict[str, tuple[str, Any]]:
    from .detectors import BUILTIN_DETECTORS, Detector
    items = []
    for plugin, found in _results("policykit_register_detectors"):
        for detector in found:
            if not isinstance(detector, Detector):
                raise PluginError(f"plugin {plugin!r} registered {detector!r}, which is not a Detector "
                                  f"(it needs `name`, `categories` and `detect(text)`)")
            items.append((plugin, detector.name, GuardedDetector(plugin, detector)))
    return _named("detector", items, {name: "policykit (built-in)" for name in BUILTIN_DETECTORS})


def _collect_functions() -> dict[str, tuple[str, Any]]:
    items = []
    for plugin, mapping in _results("policykit_register_functions"):
        for name, fn in dict(mapping).items():
            if not callable(fn):
                raise PluginError(f"plugin {plugin!r} registered function `{name}`, which is not callable")
            items.append((plugin, str(name), _guarded_function(plugin, str(name), fn)))
    return _named("function", items, {})


# ---------------------------------------------------------------- containing what plugins do at run time

class PluginFailure(PluginError):
    """A plugin call that failed policykit's checks: over its time budget, suspended, or a result that
    is not what the hook promises. The evaluator reports it under `errors` (decision at least `review`)."""


class _Budget:
    """The time budget of one plugin's detector or function, and its circuit breaker.

    A call cannot be stopped safely from outside in Python (a thread cannot be killed, a signal only
    reaches the main thread, a subprocess per call costs more than most calls), so each call runs to
    its end, is timed, and a result that took longer than `plugin_budget` counts as failed and is
    reported. After `plugin_strikes` such calls in a row the plugin is suspended for
    `plugin_cooldown` seconds: its calls fail at once (reported, so decisions are `review`), then it
    is tried again. A plugin that sleeps 5 s therefore costs 5 s on a few events, each reported, and
    nothing after that, and no thread is ever left behind.
    """

    __slots__ = ("what", "strikes", "suspended_until")

    def __init__(self, what: str) -> None:
        self.what = what
        self.strikes = 0
        self.suspended_until = 0.0

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        from .limits import current
        if self.suspended_until and time.monotonic() < self.suspended_until:
            raise PluginFailure(f"{self.what} is suspended after {current().plugin_strikes} calls over its time "
                                f"budget; it is retried {current().plugin_cooldown:g} s after the last")
        started = time.perf_counter()
        result = fn(*args)
        elapsed = time.perf_counter() - started
        limits = current()
        if elapsed <= limits.plugin_budget:
            self.strikes = 0
            return result
        self.strikes += 1
        if self.strikes >= limits.plugin_strikes:
            self.strikes = 0
            self.suspended_until = time.monotonic() + limits.plugin_cooldown
        log.warning("policykit plugin: %s took %.2f s", self.what, elapsed)
        raise PluginFailure(f"{self.what} took {elapsed:.2f} s, over its budget of {limits.plugin_budget:g} s "
                            f"(limit plugin_budget); its result was not used")


class GuardedDetector:
    """A plugin's detector as the evaluator sees it: timed against the budget, and its hits checked.

    A hit must be a `Hit` in one of the detector's declared categories, with integer offsets inside the
    text, a text match and a finite score; anything else (None, a dict, NaN, an undeclared category)
    is a `PluginFailure`, so a broken detector cannot allow silently or break a verdict's JSON."""

    def __init__(self, plugin: str, detector: Any) -> None:
        self.name: str = detector.name
        self.categories: frozenset[str] = frozenset(detector.categories)
        self.inner = detector
        self._budget = _Budget(f"detector {detector.name} (plugin {plugin})")

    def detect(self, text: str) -> list[Any]:
        hits = self._budget.call(self.inner.detect, text)
        if not isinstance(hits, (list, tuple)):
            raise PluginFailure(f"detector {self.name} returned {type(hits).__name__}, not a list of hits")
        for hit in hits:
            problem = _hit_problem(hit, self.categories, len(text))
            if problem:
                raise PluginFailure(f"detector {self.name} returned a bad hit: {problem}")
        return list(hits)


def _hit_problem(hit: Any, categories: frozenset[str], length: int) -> str | None:
    from .detectors import Hit
    if not isinstance(hit, Hit):
        return f"{type(hit).__name__} is not a Hit"
    if hit.category not in categories:
        return f"category {hit.category!r} is not one it declares ({', '.join(sorted(categories))})"
    if not (type(hit.start) is int and type(hit.end) is int and 0 <= hit.start <= hit.end <= length):
        return "offsets that are not integers inside the text"
    if not isinstance(hit.match, str) or not isinstance(hit.detector, str):
        return "a match or detector name that is not text"
    if isinstance(hit.score, bool) or not isinstance(hit.score, (int, float)) or not math.isfinite(hit.score):
        return f"score {hit.score!r} is not a finite number"
    return None


def _guarded_function(plugin: str, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """A plugin's function, timed against the budget (its result is checked where it is called)."""
    budget = _Budget(f"function {name}() (plugin {plugin})")

    def guarded(*args: Any) -> Any:
        return budget.call(fn, *args)
    guarded.__wrapped__ = fn  # type: ignore[attr-defined]
    return guarded


def _collect_action_types() -> dict[str, tuple[str, Any]]:
    items = [(plugin, str(name), str(description)) for plugin, mapping in _results("policykit_register_action_types")
             for name, description in dict(mapping).items()]
    return _named("action type", items, {})


_COLLECTORS: dict[str, Callable[[], dict[str, tuple[str, Any]]]] = {
    "platforms": _collect_platforms, "jurisdictions": _collect_jurisdictions,
    "detectors": _collect_detectors, "functions": _collect_functions, "action_types": _collect_action_types,
}


def platforms() -> dict[str, Any]:
    """Platform name → adapter, from plugins (the built-ins are in `policykit.platforms`)."""
    return {name: value for name, (_, value) in _registry("platforms").items()}


def jurisdictions() -> dict[str, Path]:
    """Policy name → .pol file, from plugins (the bundled ones are in `policykit.loader`)."""
    return {name: value for name, (_, value) in _registry("jurisdictions").items()}


def detectors() -> list[Any]:
    """Detectors from plugins, in registration order (the built-ins come from `default_detectors()`)."""
    return [value for _, value in _registry("detectors").values()]


def functions() -> dict[str, Callable[..., Any]]:
    """Function name → callable, usable in `.pol` conditions."""
    return {name: value for name, (_, value) in _registry("functions").items()}


def action_types() -> dict[str, str]:
    """Action type → what it is, from plugins (beyond the contract's vocabulary)."""
    return {name: value for name, (_, value) in _registry("action_types").items()}


def list_plugins() -> list[dict[str, Any]]:
    """Each registered plugin with what it registers (for `policykit plugins`)."""
    pm = manager()
    rows: dict[str, dict[str, Any]] = {}
    for name, _plugin in pm.list_name_plugin():
        rows[name] = {"name": name, "version": _version(pm, name), "platforms": [], "jurisdictions": [],
                      "detectors": [], "functions": [], "action_types": [], "observes_verdicts": False}
    for what in ("platforms", "jurisdictions", "detectors", "functions", "action_types"):
        for item, (plugin, _) in _registry(what).items():
            if plugin in rows:
                rows[plugin][what].append(item)
    for impl in pm.hook.policykit_observe_verdict.get_hookimpls():
        if impl.plugin_name in rows:
            rows[impl.plugin_name]["observes_verdicts"] = True
    return list(rows.values())


def _version(pm: pluggy.PluginManager, name: str) -> str | None:
    return _VERSIONS.get(name)


# ---------------------------------------------------------------- verdict observers

def observe(policy: Any, event: Any, verdict: Any) -> None:
    """Call every verdict observer; one that raises is logged and counted, never fatal."""
    global _OBSERVER_FAILURES
    if _PM is None:
        return
    for impl in _PM.hook.policykit_observe_verdict.get_hookimpls():
        if _is_wrapper(impl):
            continue
        try:  # each observer its own deep copy: nothing it does reaches the caller's verdict or another observer
            _call(impl, policy=policy, event=event, verdict=verdict.model_copy(deep=True))
        except Exception as exc:
            with _LOCK:
                _OBSERVER_FAILURES += 1
            log.warning("policykit plugin %s: verdict observer raised %s", impl.plugin_name, _describe(exc))
