"""Packaging for CI and for people: version, `python -m`, extras, the Makefile's set-up, pre-commit and the Action."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import metadata, requires
from pathlib import Path

import pytest

import policykit

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = shutil.which("policykit", path=str(Path(sys.executable).parent)) or "policykit"


def run(*argv: str, cwd: Path = ROOT, **kw: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(list(argv), capture_output=True, text=True, cwd=cwd, env=env, timeout=120, **kw)


# ---------------------------------------------------------------- version, python -m

def test_version_is_the_package_version() -> None:
    result = run(SCRIPT, "--version")
    assert result.returncode == 0 and result.stdout.strip() == f"policykit {policykit.__version__}"
    assert metadata("policykit")["Version"] == policykit.__version__  # one source: pyproject reads __version__


def test_python_dash_m_runs_the_same_command() -> None:
    assert run(sys.executable, "-m", "policykit", "--version").stdout.strip() == f"policykit {policykit.__version__}"
    result = run(sys.executable, "-m", "policykit", "lint", "policies/clinton.pol")
    assert result.returncode == 0 and "1 file(s): 0 error(s)" in result.stdout
    assert run(sys.executable, "-m", "policykit", "lint", "no/such.pol").returncode == 2


# ---------------------------------------------------------------- metadata and extras

def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_license_is_an_spdx_expression_with_its_file() -> None:
    project = _pyproject()["project"]
    assert project["license"] == "Apache-2.0"
    assert all((ROOT / name).is_file() for name in project["license-files"])
    assert metadata("policykit")["License-Expression"] == "Apache-2.0"


def test_postgres_is_an_extra_that_the_test_extra_pulls_in() -> None:
    project = _pyproject()["project"]
    assert not any(dep.startswith("psycopg") for dep in project["dependencies"])
    assert any(dep.startswith("psycopg") for dep in project["optional-dependencies"]["postgres"])
    assert "policykit[postgres]" in project["optional-dependencies"]["test"]
    installed = requires("policykit") or []
    assert any(r.startswith("psycopg") and 'extra == "postgres"' in r for r in installed)


def test_a_postgres_url_without_the_driver_is_one_line_naming_the_extra(tmp_path: Path) -> None:
    # A Python in which `import psycopg` fails, as it does where the extra was not installed.
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text("import sys\nsys.modules['psycopg'] = None\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "NO_COLOR": "1"}
    code = "import sys; from policykit.cli import main; sys.exit(main(sys.argv[1:]))"
    result = subprocess.run([sys.executable, "-c", code, "records", "verify", "--archive",
                             "postgresql://bot@127.0.0.1:1/records"], capture_output=True, text=True, env=env,
                            cwd=ROOT, timeout=120)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "pip install 'policykit[postgres]'" in result.stderr
    assert "Traceback" not in result.stderr
    # SQLite needs no driver at all.
    sqlite = subprocess.run([sys.executable, "-c", "import sys; from policykit.records import open_archive; "
                             "open_archive(sys.argv[1]).close()", str(tmp_path / "a.db")],
                            capture_output=True, text=True, env=env, timeout=120)
    assert sqlite.returncode == 0 and (tmp_path / "a.db").is_file(), sqlite.stderr


# ---------------------------------------------------------------- Makefile

def _make_tree(tmp_path: Path) -> Path:
    """A copy of the Makefile and pyproject.toml, to ask make what it would do without doing it."""
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_installs_once_and_again_only_when_pyproject_changes(tmp_path: Path) -> None:
    tree = _make_tree(tmp_path)
    fresh = run("make", "-n", "demo", cwd=tree).stdout
    assert "-m venv" in fresh and "pip install --quiet -e ." in fresh  # a fresh clone sets itself up
    fresh_test = run("make", "-n", "test", cwd=tree).stdout
    assert "-m venv" in fresh_test and "pip install --quiet -e '.[test]'" in fresh_test
    bin_dir = tree / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").touch()
    for stamp in (".installed", ".installed-test"):
        (tree / ".venv" / stamp).touch()
    again = run("make", "-n", "demo", cwd=tree).stdout
    assert "pip install" not in again and "policykit check" in again
    assert "pip install" not in run("make", "-n", "test", cwd=tree).stdout
    changed = run("make", "-n", "-W", "pyproject.toml", "demo", cwd=tree).stdout
    assert "pip install --quiet -e ." in changed


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_test_refuses_a_seeds_directory_that_does_not_exist(tmp_path: Path) -> None:
    tree = _make_tree(tmp_path)
    bin_dir = tree / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").touch()
    for stamp in (".installed", ".installed-test"):
        (tree / ".venv" / stamp).touch()
    result = run("make", "test", "SEEDS=/no/such/seeds", cwd=tree)
    assert result.returncode != 0 and "SEEDS=/no/such/seeds is not a directory" in result.stderr


def test_make_demo_prints_a_summary() -> None:
    result = run(SCRIPT, "check", *shlex.split(_makefile_variable("DEMO_POLICIES")), "--format", "summary",
                 "examples/events/")
    assert result.returncode in (0, 1), result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) < 20
    for name in ("syracuse", "nyc", "clinton", "cottonwood", "minnesota_model"):
        assert any(line.startswith(name) for line in lines)
    assert any(line.startswith("total") for line in lines)


def _makefile_variable(name: str) -> str:
    match = re.search(rf"^{name}\s*:?=\s*(.*)$", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M)
    assert match, f"{name} is not set in the Makefile"
    return match.group(1)
