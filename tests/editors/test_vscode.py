"""The VS Code extension folder: valid manifests that name files which exist, and a client that starts
`policykit lsp` (the extension is not built here; its JavaScript is syntax-checked when node is there)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "editors" / "vscode"


def manifest() -> dict:
    return json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))


def test_package_json_names_files_that_exist():
    package = manifest()
    assert (EXTENSION / package["main"]).is_file()
    (language,) = package["contributes"]["languages"]
    (grammar,) = package["contributes"]["grammars"]
    assert language["id"] == grammar["language"] == "policykit" and ".pol" in language["extensions"]
    assert f"onLanguage:{language['id']}" in package["activationEvents"]
    configuration = json.loads((EXTENSION / language["configuration"]).read_text(encoding="utf-8"))
    assert configuration["comments"]["lineComment"] == "#"
    for pattern in configuration["indentationRules"].values():
        re.compile(pattern)
    assert "vscode-languageclient" in package["dependencies"] and "vscode" in package["engines"]


def test_the_grammar_it_ships_is_the_textmate_grammar():
    (grammar,) = manifest()["contributes"]["grammars"]
    shipped = EXTENSION / grammar["path"]
    assert shipped.resolve() == (ROOT / "editors" / "textmate" / "policykit.tmLanguage.json").resolve()
    assert json.loads(shipped.read_text(encoding="utf-8"))["scopeName"] == grammar["scopeName"]


def test_the_client_starts_policykit_lsp():
    source = (EXTENSION / manifest()["main"]).read_text(encoding="utf-8")
    assert 'require("vscode-languageclient/node")' in source
    assert 'args: ["lsp", "--stdio"]' in source
    settings = manifest()["contributes"]["configuration"]["properties"]
    for key in re.findall(r'config\.get\("([\w.]+)"', source):
        assert f"policykit.{key}" in settings


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_extension_js_is_valid_javascript():
    subprocess.run(["node", "--check", str(EXTENSION / manifest()["main"])], check=True)
