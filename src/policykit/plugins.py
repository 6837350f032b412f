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
import threading
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterable

import pluggy

from . import hookspecs
from .hookspecs import hookimpl

__all__ = ["PluginConflict", "PluginError", "PluginProblem", "detectors", "discover", "functions", "hookimpl",
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
            items.append((plugin, detector.name, detector))
    return _named("detector", items, {name: "policykit (built-in)" for name in BUILTIN_DETECTORS})


def _collect_functions() -> dict[str, tuple[str, Any]]:
    items = []
    for plugin, mapping in _results("policykit_register_functions"):
        for name, fn in dict(mapping).items():
            if not callable(fn):
                raise PluginError(f"plugin {plugin!r} registered function `{name}`, which is not callable")
            items.append((plugin, str(name), fn))
    return _named("function", items, {})


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
        try:
            _call(impl, policy=policy, event=event, verdict=verdict)
        except Exception as exc:
            with _LOCK:
                _OBSERVER_FAILURES += 1
            log.warning("policykit plugin %s: verdict observer raised %s", impl.plugin_name, _describe(exc))
