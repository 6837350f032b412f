"""Fixtures for the plugin tests: the example plugin installed for real, and a clean slate for fakes."""

from __future__ import annotations

import importlib
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from policykit import plugins

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plugins" / "policykit-springfield"


def _installed() -> bool:
    return any(ep.name == "springfield" for ep in metadata.entry_points(group="policykit"))


def _process_new_pth_files() -> None:
    """An install made while this process runs adds a .pth file Python has not read yet: read it now."""
    import site
    for directory in site.getsitepackages():
        site.addsitedir(directory)
    importlib.invalidate_caches()


@pytest.fixture(scope="session")
def springfield():
    """pip-install examples/plugins/policykit-springfield into this venv (once), then discover it.

    First without build isolation (works offline when `wheel` is present); otherwise with isolation,
    which needs setuptools and wheel from pip's configured (possibly local) index.
    """
    if not _installed():
        base = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
        errors = []
        for extra in (["--no-build-isolation"], []):
            done = subprocess.run(base + extra + ["-e", str(EXAMPLE)], capture_output=True, text=True)
            if done.returncode == 0:
                break
            errors.append(done.stderr[-2000:])
        else:
            pytest.fail("could not install the example plugin:\n" + "\n".join(errors))
        importlib.invalidate_caches()
        _process_new_pth_files()
    plugins.discover()
    assert _installed(), "the example plugin installed, but its entry point is not visible"
    import policykit_springfield
    return policykit_springfield


@pytest.fixture
def register():
    """Register plugin objects for one test; they, and problems they caused, are removed afterwards."""
    names: list[str] = []
    problems = list(plugins._PROBLEMS)

    def add(obj, name):
        names.append(plugins.register(obj, name=name))
        return obj
    yield add
    for name in names:
        if plugins.manager().get_plugin(name) is not None:
            plugins.unregister(name=name)
    plugins._PROBLEMS[:] = problems
    plugins._changed()
