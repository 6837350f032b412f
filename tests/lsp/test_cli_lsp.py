"""`policykit lsp` without the `lsp` extra: one line naming the extra, exit 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

HIDE = "import sys; sys.modules[{name!r}] = None; from policykit.cli import main; sys.exit(main(['lsp', '--stdio']))"


@pytest.mark.parametrize("name", ["pygls", "lsprotocol"])
def test_without_the_extra_it_says_which_to_install(name):
    done = subprocess.run([sys.executable, "-c", HIDE.format(name=name)], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 2
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert "policykit[lsp]" in line and "Traceback" not in done.stderr
