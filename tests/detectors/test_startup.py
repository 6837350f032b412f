"""Instant start (issue 13): `import policykit` and `policykit --help` load none of the heavy modules;
the public names still work, imported on first use."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("pydantic", "lark", "policykit.compiler", "policykit.detectors", "policykit.evaluator",
         "policykit.models", "re2", "ahocorasick")


def _modules_after(code: str) -> set[str]:
    script = code + "\nimport json, sys; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_import_policykit_loads_nothing_heavy():
    loaded = _modules_after("import policykit")
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_the_command_line_parser_loads_nothing_heavy():
    loaded = _modules_after("import policykit.cli as c; c.build_parser()")
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_public_names_are_imported_on_first_use():
    import policykit

    assert set(policykit.__all__) <= set(dir(policykit))
    for name in policykit.__all__:
        assert getattr(policykit, name) is not None
    verdict = policykit.evaluate({"kind": "comment", "text": "thanks for fixing the lights"}, policy="clinton")
    assert isinstance(verdict, policykit.Verdict)
    try:
        policykit.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("an unknown attribute must raise AttributeError")
