"""Packaging for CI and for people: version, `python -m`, extras, the Makefile's set-up, pre-commit and the Action."""

from __future__ import annotations

import json
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


# ---------------------------------------------------------------- pre-commit hooks

def _yaml(name: str) -> object:
    from ruamel.yaml import YAML
    return YAML(typ="safe").load((ROOT / name).read_text(encoding="utf-8"))


def _hooks() -> list[dict]:
    hooks = _yaml(".pre-commit-hooks.yaml")
    assert isinstance(hooks, list) and hooks
    return hooks


def test_pre_commit_hooks_are_well_formed() -> None:
    hooks = _hooks()
    ids = [hook["id"] for hook in hooks]
    assert len(ids) == len(set(ids)) and {"policykit-lint", "policykit-fmt"} <= set(ids)
    scripts = _pyproject()["project"]["scripts"]
    from policykit.cli import build_parser
    for hook in hooks:
        assert re.fullmatch(r"[a-z0-9-]+", hook["id"]) and hook["name"] and hook["language"] == "python"
        program, *args = shlex.split(hook["entry"])
        assert program in scripts  # installed by pip from this repository, as `language: python` does
        build_parser().parse_args([*args, "policies/nyc.pol"])  # raises SystemExit on an unknown option
        files = re.compile(hook["files"])  # pre-commit matches `files` with Python's re.search
        assert all(files.search(p) for p in ("policies/nyc.pol", "nyc.pol", "a/b/c d.pol"))
        assert not any(files.search(p) for p in ("nyc.pol.bak", "README.md", "x.tests.yaml", "pol"))


def _run_hook(hook_id: str, *files: Path) -> subprocess.CompletedProcess[str]:
    """A hook's entry as pre-commit runs it: the entry's words, then the staged files it matches."""
    hook = next(h for h in _hooks() if h["id"] == hook_id)
    program, *args = shlex.split(hook["entry"])
    matched = [str(f) for f in files if re.search(hook["files"], str(f))]
    return run(shutil.which(program, path=str(Path(sys.executable).parent)) or program, *args, *matched)


def test_pre_commit_hooks_pass_good_files_and_fail_bad_ones(tmp_path: Path) -> None:
    good = tmp_path / "good.pol"
    shutil.copy(ROOT / "policies" / "clinton.pol", good)
    bad = tmp_path / "bad.pol"
    bad.write_text('policy bad "Bad"\n\nclause 1 "x"\n      deny post when author.trainedd\n')
    notes = tmp_path / "notes.md"
    notes.write_text("not a policy")
    assert _run_hook("policykit-lint", good, notes).returncode == 0
    assert _run_hook("policykit-lint", good, bad).returncode == 1
    assert _run_hook("policykit-fmt-check", good).returncode == 0
    assert _run_hook("policykit-fmt-check", bad).returncode == 1
    before = bad.read_text()
    assert _run_hook("policykit-fmt", bad, notes).returncode == 0
    assert bad.read_text() != before and "\n  deny post" in bad.read_text()  # pre-commit sees the change
    assert notes.read_text() == "not a policy"


# ---------------------------------------------------------------- the GitHub Action

def _action() -> dict:
    action = _yaml("action.yml")
    assert isinstance(action, dict)
    return action


def test_action_is_a_composite_whose_steps_use_only_declared_inputs() -> None:
    action = _action()
    assert action["runs"]["using"] == "composite" and action["name"] and action["description"]
    declared = set(action["inputs"])
    for step in action["runs"]["steps"]:
        if "run" in step:
            assert step["shell"] == "bash"
            # inputs reach scripts through `env:` only: an input pasted into a script could inject commands
            assert "${{" not in step["run"]
        text = json.dumps(step)
        for used in re.findall(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", text):
            assert used in declared, used
    install = next(s for s in action["runs"]["steps"] if s.get("name") == "Install policykit")
    assert install["env"]["PK_ACTION_PATH"] == "${{ github.action_path }}"


def _lint_step(tmp_path: Path, **inputs: str) -> subprocess.CompletedProcess[str]:
    """The action's lint step run for real by bash, its env filled in as the runner fills it."""
    action = _action()
    step = next(s for s in action["runs"]["steps"] if s.get("name") == "Lint")
    values = {name: spec.get("default", "") for name, spec in action["inputs"].items()} | inputs
    env = {key: re.sub(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", lambda m: str(values[m.group(1)]), str(value))
           for key, value in step["env"].items()}
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return subprocess.run(["bash", "-e", "-c", step["run"]], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, **env, "PATH": path, "NO_COLOR": "1"}, timeout=120)


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_action_lint_step_annotates_findings_and_writes_sarif(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    shutil.copy(ROOT / "policies" / "clinton.pol", tmp_path / "policies" / "clinton.pol")
    assert _lint_step(tmp_path).returncode == 0
    (tmp_path / "policies" / "bad.pol").write_text('policy bad "Bad"\n\nclause 1 "x"\n  deny post when author.trainedd\n')
    result = _lint_step(tmp_path, sarif="lint.sarif")
    assert result.returncode == 1
    assert result.stdout.startswith("::error file=policies/bad.pol,line=4,col=18,title=PK102")
    sarif = json.loads((tmp_path / "lint.sarif").read_text())
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == ["PK102"]
    (tmp_path / "texts").mkdir()
    (tmp_path / "policies" / "bad.pol").unlink()
    quoted = _lint_step(tmp_path, sources="texts", paths="policies/clinton.pol")
    assert "PK306" in quoted.stdout  # the sources input reached lint: it looked for clinton.txt there
