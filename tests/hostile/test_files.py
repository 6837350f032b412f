"""Policies read files only inside their roots, within the size limit; YAML is bounded (issue 14)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import policykit
from policykit import limits
from policykit.errors import PolicyError
from policykit.lint import lint_file
from policykit.testing import UnreadableTestFile, run_file

SECRET = "root:x:0:0:TOP-SECRET-LINE"
BODY = 'clause 1 "x"\n  deny comment when has profanity\n'


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "secret.txt").write_text(SECRET + "\n")
    (tmp_path / "pol").mkdir()
    (tmp_path / "src").mkdir()
    (tmp_path / "pol" / "parent.pol").write_text('policy parent "P"\n' + BODY)
    return tmp_path


def _policy(tree: Path, header: str) -> Path:
    path = tree / "pol" / "p.pol"
    path.write_text(f'policy p "T"\n  {header}\n' + BODY.replace("clause 1", "clause 2"))
    return path


ESCAPES = {
    "an absolute path": lambda tree: 'extends "/etc/passwd"',
    "an absolute path to the secret": lambda tree: f'extends "{tree / "secret.txt"}"',
    "a .. escape": lambda tree: 'extends "../secret.txt"',
    "a .. escape through a subdirectory": lambda tree: 'extends "sub/../../secret.txt"',
}


@pytest.mark.parametrize("name", ESCAPES)
def test_extends_outside_the_roots_is_refused_without_reading(tree, name):
    path = _policy(tree, ESCAPES[name](tree))
    with pytest.raises(PolicyError) as caught:
        policykit.load(path)
    assert [d.code for d in caught.value.diagnostics] == ["PK212"]
    assert caught.value.diagnostics[0].line == 2
    assert "TOP-SECRET" not in str(caught.value) and "root:x" not in str(caught.value)


def test_a_symlink_pointing_out_is_refused(tree):
    os.symlink(tree / "secret.txt", tree / "pol" / "link.pol")
    with pytest.raises(PolicyError) as caught:
        policykit.load(_policy(tree, 'extends "link.pol"'))
    assert caught.value.diagnostics[0].code == "PK212" and "TOP-SECRET" not in str(caught.value)


def test_extends_inside_the_directory_and_by_name_still_work(tree):
    assert "1" in policykit.load(_policy(tree, 'extends "parent.pol"')).clauses
    assert policykit.load(_policy(tree, "extends nyc")).layers[0].name == "nyc"


def test_every_policy_file_read_is_size_limited(tree):
    big = tree / "pol" / "big.pol"
    big.write_text('policy big "B"\n' + "# padding\n" * 500_000)
    with pytest.raises(PolicyError) as caught:
        policykit.load(_policy(tree, 'extends "big.pol"'))
    assert "max_policy_bytes" in str(caught.value)


def test_a_fifo_is_refused_without_blocking(tree):
    os.mkfifo(tree / "pol" / "fifo.pol")
    with pytest.raises(PolicyError) as caught:
        policykit.load(_policy(tree, 'extends "fifo.pol"'))
    assert caught.value.diagnostics[0].code in ("PK000", "PK210")
    with pytest.raises(limits.ReadRefused, match="not a regular file"):
        limits.read_bounded(tree / "pol" / "fifo.pol", 100, "a policy", "max_policy_bytes")


DOCUMENTS = {
    "an absolute document": ('document "/etc/passwd"', "PK212"),
    "a .. document": ('document "../secret.txt"', "PK212"),
    "a binary document": ('document "binary.txt"', "PK213"),
    "a document that is not UTF-8": ('document "latin1.txt"', "PK213"),
    "a document that is a directory": ('document "folder"', "PK306"),
}


@pytest.mark.parametrize("name", DOCUMENTS)
def test_documents_resolve_inside_sources_only(tree, name):
    header, code = DOCUMENTS[name]
    (tree / "src" / "binary.txt").write_bytes(b"%PDF-1.4\x00\x01\x02")
    (tree / "src" / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    (tree / "src" / "folder").mkdir()
    found = lint_file(_policy(tree, header), tree / "src")
    assert code in [d.code for d in found]
    assert all("TOP-SECRET" not in str(d) for d in found)


def test_a_document_symlinked_out_of_sources_is_refused(tree):
    os.symlink(tree / "secret.txt", tree / "src" / "doc.txt")
    found = lint_file(_policy(tree, 'document "doc.txt"'), tree / "src")
    assert [d.code for d in found if d.code.startswith("PK2")] == ["PK212"]


BOMB = "\n".join(['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
                 + [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
                 + ["policy: clinton", "cases:", "  - name: bomb", "    event: *a8"]) + "\n"


def test_a_yaml_alias_bomb_fails_fast_in_test_files(tmp_path):
    assert len(BOMB) <= 520
    path = tmp_path / "bomb.tests.yaml"
    path.write_text(BOMB)
    with pytest.raises(UnreadableTestFile) as caught:
        run_file(path)
    assert "max_yaml_nodes" in str(caught.value)


def test_yaml_nested_deep_fails_with_the_limit(tmp_path):
    path = tmp_path / "deep.tests.yaml"
    path.write_text("policy: nyc\ncases: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(UnreadableTestFile) as caught:
        run_file(path)
    assert "max_yaml_depth" in str(caught.value) and "nested too deeply" in str(caught.value)


def test_yaml_aliases_within_the_limit_still_work():
    data = limits.load_yaml("base: &b {role: staff}\nuser: {<<: *b, trained: true}\n", round_trip=True)
    assert dict(data["user"]) == {"role": "staff", "trained": True}
