"""Signed checkpoints: every tampering attack is detected with a key, without remembering the head.

The attacker here is thorough: after changing records they recompute every hash after the change
(`_rechain`), the chain head in the metadata, and the derived tables (`_rederive`, with the
archive's own replay), so the archive is consistent in itself and only a signature can tell.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from datetime import datetime, timedelta, timezone

import pytest

from policykit.moderator import Moderator
from policykit.records import CheckpointError, open_archive
from policykit.records.chain import GENESIS, data_hash, record_hash
from policykit.records.checkpoint import generate_key, load_private_key, load_public_key
from policykit.records.derived import Replay

from conftest import comment, run_cli

PROFANE = "what the hell is this"
COLS = "seq, kind, subject, version, recorded_at, ev_at, author, account, target, decision, data, data_hash, prev, hash"


@pytest.fixture
def keys(tmp_path):
    private, public, _ = generate_key(tmp_path / "city.key")
    other, other_pub, _ = generate_key(tmp_path / "attacker.key")
    return {"private": load_private_key(private), "public": load_public_key(public), "path": private,
            "pub_path": public, "other": load_private_key(other), "other_pub": load_public_key(other_pub)}


def _moderate(url, clinton, ids, author="u1"):
    with open_archive(url) as a:
        mod = Moderator(clinton, a)
        for i in ids:
            mod.handle(comment(i, text=PROFANE if i % 3 == 0 else f"comment {i}", author=author))


@pytest.fixture
def signed(tmp_path, clinton, keys):
    """An archive of 12 moderated comments, a checkpoint, then 3 more (after the checkpoint)."""
    path = str(tmp_path / "mod.db")
    _moderate(path, clinton, range(12))
    with open_archive(path) as a:
        cp, _ = a.sign_checkpoint(keys["private"])
    _moderate(path, clinton, range(12, 15))
    return {"path": path, "cp": cp, "file": path + ".checkpoints"}


def _verify(path, keys, **kw):
    with open_archive(path) as a:
        return a.verify(keys=[keys["public"]], **kw)


# -- the attacker's tools -------------------------------------------------------------------------------

def _conn(path):
    conn = sqlite3.connect(path)
    conn.isolation_level = None
    return conn


def _chain(path):
    """Every record, as lists the attacker can change."""
    conn = _conn(path)
    try:
        return [list(r) for r in conn.execute(f"SELECT {COLS} FROM policykit_records ORDER BY seq")]
    finally:
        conn.close()


def _rewrite(path, rows):
    """Replace the chain with `rows` (renumbered from 1, every hash recomputed), the head in the
    metadata and the derived tables recomputed: consistent in itself."""
    conn = _conn(path)
    prev = GENESIS
    for n, r in enumerate(rows, 1):
        r[0] = n
        r[11] = data_hash(r[10]) if r[10] is not None else r[11]
        r[12] = prev
        r[13] = prev = record_hash(prev, *r[:10], r[11])
    conn.execute("BEGIN")
    conn.execute("DELETE FROM policykit_records")
    conn.executemany(f"INSERT INTO policykit_records ({COLS}) VALUES ({', '.join('?' * 14)})", rows)
    conn.execute("UPDATE policykit_meta SET value = ? WHERE key = 'head_seq'", (str(len(rows)),))
    conn.execute("UPDATE policykit_meta SET value = ? WHERE key = 'head_hash'", (prev,))
    replay = Replay()
    for r in rows:
        replay.feed(r[0], r[1], r[2], r[3], r[4], r[6], r[7], r[8], r[9], r[10], r[11])
    replay.finish()
    for table in ("items", "item_verdicts", "authors"):
        conn.execute(f"DELETE FROM policykit_{table}")
    conn.executemany("INSERT INTO policykit_items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     [(k, *v[:8], int(v[8]), v[9]) for k, v in replay.items.items()])
    conn.executemany("INSERT INTO policykit_item_verdicts VALUES (?, ?, ?, ?, ?)",
                     [(k, p, *v) for (k, p), v in replay.verdicts.items()])
    conn.executemany("INSERT INTO policykit_authors VALUES (?, ?)", list(replay.authors.items()))
    conn.execute("COMMIT")
    conn.close()


def _consistent_without_checkpoints(path):
    """The forgery passes every check but the checkpoints' (nothing else gives it away)."""
    with open_archive(path) as a:
        result = a.verify(checkpoints=os.devnull)
    assert result.ok or "checkpoint" in (result.problem or ""), result.problem


# -- an untampered archive ---------------------------------------------------------------------------

def test_an_untampered_archive_verifies_with_its_key(signed, keys):
    result = _verify(signed["path"], keys)
    assert result.ok, result.problem
    assert result.checkpoints == 1 and result.latest_checkpoint["seq"] == signed["cp"].seq
    lines = open(signed["file"]).read().splitlines()
    assert [json.loads(x)["signature"] for x in lines] == [signed["cp"].signature]
    with open_archive(signed["path"]) as a:
        record = list(a.records(kind="checkpoint"))[0]
        assert record.seq == signed["cp"].seq + 1 and record.content()["hash"] == a.get(record.seq - 1).hash


# -- the attacks ---------------------------------------------------------------------------------------

def test_tail_cut_with_the_head_rows_removed(signed, keys):
    rows = _chain(signed["path"])
    _rewrite(signed["path"], rows[:5])
    conn = _conn(signed["path"])
    conn.execute("DELETE FROM policykit_meta WHERE key IN ('head_seq', 'head_hash')")
    conn.close()
    result = _verify(signed["path"], keys)
    assert not result.ok and "records were cut from the end" in result.problem, result.problem


def test_re_chained_forgery(signed, keys):
    rows = _chain(signed["path"])
    target = next(r for r in rows if r[1] == "event" and '"comment 1"' in r[10])
    target[10] = target[10].replace('"comment 1"', '"comment one, as I never wrote it"')
    _rewrite(signed["path"], rows)
    _consistent_without_checkpoints(signed["path"])
    result = _verify(signed["path"], keys)
    assert not result.ok and "was rewritten" in result.problem, result.problem
    os.remove(signed["file"])                   # the checkpoint record in the chain catches it on its own
    result = _verify(signed["path"], keys)
    assert not result.ok and "the chain before it was rewritten" in result.problem, result.problem


def test_delete_and_renumber(signed, keys):
    rows = _chain(signed["path"])
    _rewrite(signed["path"], rows[:3] + rows[5:])       # a comment and its verdict gone, the rest renumbered
    result = _verify(signed["path"], keys)
    assert not result.ok
    assert "renumbered" in result.problem or "rewritten" in result.problem, result.problem


def test_a_replaced_database(signed, keys, clinton, tmp_path):
    os.replace(signed["path"], tmp_path / "original.db")
    for suffix in ("-wal", "-shm"):
        if os.path.exists(signed["path"] + suffix):
            os.remove(signed["path"] + suffix)
    _moderate(signed["path"], clinton, range(15))        # the same stream into a fresh archive
    result = _verify(signed["path"], keys)
    assert not result.ok and "the database was replaced" in result.problem, result.problem
    os.remove(signed["file"])                            # ... and its checkpoint file thrown away too
    result = _verify(signed["path"], keys)
    assert not result.ok and "no checkpoint signed by the given key" in result.problem


def test_editing_a_records_json(signed, keys):
    conn = _conn(signed["path"])
    conn.execute("UPDATE policykit_records SET data = replace(data, 'comment 4', 'comment 44') WHERE seq = "
                 "(SELECT MIN(seq) FROM policykit_records WHERE data LIKE '%comment 4%')")
    conn.close()
    result = _verify(signed["path"], keys)
    assert not result.ok and "altered" in result.problem


def test_swapping_two_records(signed, keys):
    rows = _chain(signed["path"])
    rows[3], rows[5] = rows[5], rows[3]
    _rewrite(signed["path"], rows)
    result = _verify(signed["path"], keys)
    assert not result.ok and "checkpoint" in result.problem, result.problem


def test_a_checkpoint_signed_by_another_key(signed, keys):
    """The forger re-chains, signs their own checkpoint and replaces the checkpoint file with it."""
    rows = [r for r in _chain(signed["path"]) if r[1] != "checkpoint"]
    target = next(r for r in rows if r[1] == "event" and '"comment 1"' in r[10])
    target[10] = target[10].replace('"comment 1"', '"remark 1"')
    _rewrite(signed["path"], rows)
    os.remove(signed["file"])
    with open_archive(signed["path"]) as a:
        a.sign_checkpoint(keys["other"])
    _consistent_without_checkpoints(signed["path"])
    result = _verify(signed["path"], keys)
    assert not result.ok and "which is not a key given to verify" in result.problem, result.problem
    with open_archive(signed["path"]) as a:                  # the forger's own key vouches for it, of course
        assert a.verify(keys=[keys["other_pub"]]).ok


def test_a_replayed_old_checkpoint(signed, keys, clinton):
    """Cut back past the newest checkpoint and put a copy of the old one at the head: it signs a record
    that is not the one before it."""
    with open_archive(signed["path"]) as a:
        a.sign_checkpoint(keys["private"])
    rows = _chain(signed["path"])
    first = next(r for r in rows if r[1] == "checkpoint")
    cut = rows[:first[0]] + rows[first[0]:first[0] + 2] + [list(first)]
    _rewrite(signed["path"], cut)
    with open(signed["file"], "w") as fh:                     # the file rolled back to the old checkpoint
        fh.write(json.dumps(json.loads(first[10])) + "\n")
    result = _verify(signed["path"], keys)
    assert not result.ok and "an old checkpoint was replayed" in result.problem, result.problem


def test_a_rollback_to_an_old_checkpoint_is_caught_by_its_age(tmp_path, clinton, keys):
    """Chain and file both rolled back to an old, genuine checkpoint: self-consistent, so only the age
    of the newest checkpoint tells (the documented limit of what a checkpoint can prove)."""
    path = str(tmp_path / "mod.db")
    _moderate(path, clinton, range(6))
    with open_archive(path) as a:
        a.sign_checkpoint(keys["private"], when=datetime.now(timezone.utc) - timedelta(days=3))
    keep = len(_chain(path))
    old_file = open(path + ".checkpoints").read()
    _moderate(path, clinton, range(6, 10))
    with open_archive(path) as a:
        a.sign_checkpoint(keys["private"])
        assert a.verify(keys=[keys["public"]], max_age=timedelta(days=1)).ok
    rows = _chain(path)[:keep]
    _rewrite(path, rows)
    open(path + ".checkpoints", "w").write(old_file)
    assert _verify(path, keys).ok                              # without an age bound: consistent, passes
    result = _verify(path, keys, max_age=timedelta(days=1))
    assert not result.ok and "older than --max-age" in result.problem


def test_a_checkpoint_record_removed_from_the_chain(signed, keys):
    rows = [r for r in _chain(signed["path"]) if r[1] != "checkpoint"]
    _rewrite(signed["path"], rows)
    result = _verify(signed["path"], keys)   # the file still lists it
    assert not result.ok and "was removed" in result.problem, result.problem


def test_a_tampered_checkpoint_file_line(signed, keys):
    line = json.loads(open(signed["file"]).read())
    line["seq"] -= 1
    open(signed["file"], "w").write(json.dumps(line) + "\n")
    result = _verify(signed["path"], keys)
    assert not result.ok and "signature does not match" in result.problem
    open(signed["file"], "w").write("not json\n")
    result = _verify(signed["path"], keys)
    assert not result.ok and "is not a checkpoint" in result.problem


def test_a_derived_table_edit_is_caught_with_the_key_too(signed, keys):
    conn = _conn(signed["path"])
    conn.execute("UPDATE policykit_authors SET removed = 0")
    conn.close()
    result = _verify(signed["path"], keys)
    assert not result.ok and "policykit_authors" in result.problem


def test_without_any_checkpoint_a_key_fails_verify(tmp_path, clinton, keys):
    path = str(tmp_path / "mod.db")
    _moderate(path, clinton, range(3))
    result = _verify(path, keys)
    assert not result.ok and "no checkpoint signed by the given key" in result.problem
    with open_archive(path) as a:
        assert a.verify().ok                    # without a key, an archive never checkpointed is fine


def test_postgres_checkpoints_and_a_cut_tail(pg_url, clinton, keys, tmp_path):
    import psycopg

    cp_file = str(tmp_path / "pg.checkpoints")
    _moderate(pg_url, clinton, range(8))
    with open_archive(pg_url) as a:
        cp, path = a.sign_checkpoint(keys["private"], file=cp_file)
        assert str(path) == cp_file
        assert a.verify(keys=[keys["public"]], checkpoints=cp_file).ok
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DELETE FROM policykit_records WHERE seq > 4")
        conn.execute("UPDATE policykit_meta SET value = '4' WHERE key = 'head_seq'")
        conn.execute("UPDATE policykit_meta SET value = (SELECT hash FROM policykit_records WHERE seq = 4) "
                     "WHERE key = 'head_hash'")
    with open_archive(pg_url) as a:
        result = a.verify(keys=[keys["public"]], checkpoints=cp_file)
    assert not result.ok and "records were cut from the end" in result.problem, result.problem


# -- keys and the commands ---------------------------------------------------------------------------

def test_keygen_writes_0600_and_refuses_to_overwrite(tmp_path):
    private, public, fp = generate_key(tmp_path / "k")
    assert stat.S_IMODE(os.stat(private).st_mode) == 0o600 and fp.startswith("ed25519:")
    with pytest.raises(CheckpointError, match="refusing to overwrite"):
        generate_key(tmp_path / "k")
    os.chmod(private, 0o644)
    with pytest.raises(CheckpointError, match="chmod 600"):
        load_private_key(private)
    (tmp_path / "junk.pub").write_text("hello")
    with pytest.raises(CheckpointError, match="not a PEM public key"):
        load_public_key(tmp_path / "junk.pub")


def test_the_commands(tmp_path, clinton):
    path, key = str(tmp_path / "mod.db"), str(tmp_path / "city.key")
    _moderate(path, clinton, range(4))
    proc = run_cli("records", "keygen", "--out", key)
    assert proc.returncode == 0 and "mode 0600" in proc.stdout, proc.stderr
    with open_archive(path) as a:
        head = a.count()
    proc = run_cli("records", "checkpoint", "--archive", path, "--key", key)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["seq"] == head and "appended to" in proc.stderr
    proc = run_cli("records", "verify", "--archive", path, "--key", key + ".pub", "--max-age", "1h")
    assert proc.returncode == 0 and "1 signed checkpoint(s)" in proc.stdout and "trusted key" in proc.stdout
    conn = _conn(path)
    conn.execute("DELETE FROM policykit_records WHERE seq > 3")
    conn.close()
    proc = run_cli("records", "verify", "--archive", path, "--key", key + ".pub")
    assert proc.returncode == 1 and "FAILED" in proc.stdout
    proc = run_cli("records", "verify", "--archive", path, "--key", str(tmp_path / "missing.pub"))
    assert proc.returncode == 2 and "cannot read the key file" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli("records", "verify", "--archive", path, "--max-age", "soon")
    assert proc.returncode == 2 and "not a duration" in proc.stderr
