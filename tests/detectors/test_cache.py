"""The on-disk cache (policykit.cache) of the detector engine and the parser: an entry is loaded
only when it is fresh, intact and in a directory and file only this user can write; anything else is
rebuilt, never loaded."""

from __future__ import annotations

import os
import pickle

import pytest

from policykit import cache
from policykit.detectors import builtin


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("POLICYKIT_CACHE_DIR", str(d))
    return d


def test_an_entry_comes_back_only_for_its_key(cache_dir):
    assert cache.store("thing", "k1", b"payload")
    assert cache.load("thing", "k1") == b"payload"
    assert cache.load("thing", "k2") is None  # stale: built from other data or library versions
    assert cache.load("other", "k1") is None
    assert (cache_dir.stat().st_mode & 0o777) == 0o700
    assert ((cache_dir / "thing.cache").stat().st_mode & 0o777) == 0o600


@pytest.mark.parametrize("damage", [
    lambda b: b[:-1],                          # truncated
    lambda b: b[:-3] + b"XYZ",                 # payload changed
    lambda b: b"",                             # empty
    lambda b: b"not a cache file at all\n",    # foreign content
    lambda b: b.replace(b"policykit-cache 1", b"policykit-cache 9"),  # another format
])
def test_a_corrupt_entry_is_never_loaded(cache_dir, damage):
    cache.store("thing", "k", b"payload" * 100)
    f = cache_dir / "thing.cache"
    f.write_bytes(damage(f.read_bytes()))
    assert cache.load("thing", "k") is None


def test_a_directory_others_can_write_is_not_used(cache_dir):
    cache.store("thing", "k", b"payload")
    os.chmod(cache_dir, 0o777)
    assert cache.cache_dir() is None
    assert cache.load("thing", "k") is None
    os.chmod(cache_dir, 0o720)  # group-writable is no better
    assert cache.load("thing", "k") is None


def test_a_file_others_can_write_or_a_link_is_not_loaded(cache_dir, tmp_path):
    cache.store("thing", "k", b"payload")
    f = cache_dir / "thing.cache"
    os.chmod(f, 0o666)
    assert cache.load("thing", "k") is None
    os.chmod(f, 0o600)
    elsewhere = tmp_path / "elsewhere.cache"
    elsewhere.write_bytes(f.read_bytes())
    os.chmod(elsewhere, 0o600)
    f.unlink()
    f.symlink_to(elsewhere)
    assert cache.load("thing", "k") is None


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="ownership is a POSIX notion here")
def test_a_directory_or_file_owned_by_someone_else_is_not_used(cache_dir, monkeypatch):
    cache.store("thing", "k", b"payload")
    me = os.geteuid()
    monkeypatch.setattr(os, "geteuid", lambda: me + 1)  # as seen by another user, everything is foreign
    assert cache.cache_dir() is None
    assert cache.load("thing", "k", cache_dir) is None


def test_the_cache_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("POLICYKIT_CACHE_DIR", "off")
    assert cache.cache_dir() is None
    assert not cache.store("thing", "k", b"payload")
    assert cache.cached("thing", "k", lambda: 42, lambda v: b"", int) == 42


def test_an_entry_that_cannot_be_restored_is_rebuilt_and_replaced(cache_dir):
    cache.store("thing", "k", b"\x00 not a pickle")
    built = []

    def build():
        built.append(1)
        return {"x": 1}

    assert cache.cached("thing", "k", build, pickle.dumps, pickle.loads) == {"x": 1}
    assert built == [1]
    assert cache.cached("thing", "k", build, pickle.dumps, pickle.loads) == {"x": 1}
    assert built == [1]  # the second time it came from the rewritten entry


def _fresh_engine():
    return builtin.Engine(builtin.bundled_lexicon, builtin.bundled_patterns, bundled=True)


def test_the_engine_is_built_once_then_loaded(cache_dir, monkeypatch):
    from policykit.detectors.normalize import Analysis

    text = "What the hell, vote for Jane Smith. I will kill you."
    first = _fresh_engine().run(Analysis(text))
    assert (cache_dir / "detector-engine.cache").is_file()

    def no_build(self):
        raise AssertionError("built again although a fresh entry was there")

    monkeypatch.setattr(builtin.Engine, "_build", no_build)
    assert _fresh_engine().run(Analysis(text)) == first


def test_a_stale_or_corrupt_engine_entry_is_rebuilt(cache_dir, monkeypatch):
    from policykit.detectors.normalize import Analysis

    text = "What the hell, vote for Jane Smith."
    expected = _fresh_engine().run(Analysis(text))
    entry = cache_dir / "detector-engine.cache"
    data = entry.read_bytes()
    calls = []
    real = builtin.Engine._build

    def counting_build(self):
        calls.append(1)
        return real(self)

    monkeypatch.setattr(builtin.Engine, "_build", counting_build)
    entry.write_bytes(data[:-10] + b"0123456789")  # corrupt
    assert _fresh_engine().run(Analysis(text)) == expected
    monkeypatch.setattr(builtin, "bundled_key", lambda: "another key")  # stale: other data or versions
    assert _fresh_engine().run(Analysis(text)) == expected
    assert len(calls) == 2


def test_the_parser_from_the_cache_parses_as_the_built_one(cache_dir):
    from policykit.parser import _PolIndenter

    here = os.path.dirname(cache.__file__)
    with open(os.path.join(here, "grammar.lark"), encoding="utf-8") as fh:
        grammar = fh.read()
    options = dict(propagate_positions=True, maybe_placeholders=True, start=["start", "fragment"])
    built = cache.lark_parser(grammar, _PolIndenter(), **options)
    assert (cache_dir / "parser.cache").is_file()
    loaded = cache.lark_parser(grammar, _PolIndenter(), **options)
    with open(os.path.join(here, "policies", "clinton.pol"), encoding="utf-8") as fh:
        source = fh.read()
    assert loaded is not built
    assert loaded.parse(source, start="start") == built.parse(source, start="start")


def test_every_process_finds_the_same_entries(cache_dir):
    """Keys must not depend on the process (a set's repr follows PYTHONHASHSEED)."""
    import subprocess
    import sys

    script = ("from policykit.detectors.builtin import bundled_key; from policykit import parser; "
              "parser._lark(); print(bundled_key())")
    keys = set()
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        keys.add(subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                                check=True).stdout)
    assert len(keys) == 1
    first = (cache_dir / "parser.cache").stat().st_mtime_ns
    env = dict(os.environ, PYTHONHASHSEED="3")
    subprocess.run([sys.executable, "-c", script], env=env, check=True, capture_output=True)
    assert (cache_dir / "parser.cache").stat().st_mtime_ns == first  # loaded, not written again
