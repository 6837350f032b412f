"""Signed checkpoints of the chain head (Ed25519), so that `verify` detects truncation, a re-chained
forgery, delete-and-renumber and a replaced database without anyone remembering the head by hand.

A hash chain alone proves only that its records agree with each other: whoever can write the
database can cut its tail, or rewrite a record and recompute every hash after it, and the chain
still verifies. A checkpoint is the head (record number and hash) together with the archive's
identity and the time, signed with a key the database does not hold:

    {"format": "policykit-checkpoint/1", "archive": ARCHIVE_ID, "seq": 1042, "hash": "9f2c…",
     "time": "2026-12-08T00:00:00.000000Z", "key": PUBLIC_KEY_HEX, "signature": SIGNATURE_HEX}

It is stored twice. In the chain, as a `checkpoint` record right after the head it signs, so every
copy of the archive carries its signed history; and appended to a file beside the archive (an SQLite
archive's `ARCHIVE.checkpoints`, or `--checkpoints FILE`), because a checkpoint inside the chain
cannot reveal that the chain was cut before it. `verify` with the public key checks every
checkpoint's signature and archive identity, that each checkpoint record signs the record before
it, and that the chain still holds every checkpointed record with the signed hash.

What a checkpoint cannot do: records after the latest checkpoint are protected only by the next one
(checkpoint often: from cron, after each moderation run), and whoever can delete both the tail and the
checkpoint file can roll both back to an older checkpoint; `--max-age` catches that by the age of
the newest checkpoint, a copy of the file kept elsewhere catches it for certain.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable

from .errors import CheckpointError

FORMAT = "policykit-checkpoint/1"
_DURATION = re.compile(r"\s*(\d+)\s*(s|sec|seconds?|m|min|minutes?|h|hours?|d|days?|w|weeks?)\s*\Z", re.I)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _crypto() -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    return serialization, ed25519


def _canon(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# -- keys ------------------------------------------------------------------------------------------

def generate_key(path: str | os.PathLike) -> tuple[Path, Path, str]:
    """Write a new Ed25519 private key to `path` (PEM, mode 0600, never over an existing file) and its
    public key to `path.pub`; returns both paths and the key's fingerprint."""
    serialization, ed25519 = _crypto()
    private, public = Path(path), Path(str(path) + ".pub")
    for p in (private, public):
        if p.exists():
            raise CheckpointError(f"{p} exists; refusing to overwrite a key (remove it first if you mean to)")
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    pub = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    _write_new(private, pem, 0o600)
    _write_new(public, pub, 0o644)
    return private, public, fingerprint(_raw(key.public_key()))


def _write_new(path: Path, data: bytes, mode: int) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except OSError as exc:
        raise CheckpointError(f"cannot write the key file {path}: {exc.strerror}") from None
    try:
        os.fchmod(fd, mode)  # whatever the umask
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _raw(public: Any) -> bytes:
    serialization, _ = _crypto()
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(raw: bytes) -> str:
    """A short, stable name for a public key: `ed25519:` and the first 16 hex digits of its SHA-256."""
    from hashlib import sha256

    return "ed25519:" + sha256(raw).hexdigest()[:16]


def _read_key_file(path: str | os.PathLike) -> bytes:
    try:
        return Path(path).read_bytes()[:65536]
    except OSError as exc:
        raise CheckpointError(f"cannot read the key file {path}: {exc.strerror}") from None


def load_private_key(path: str | os.PathLike) -> Any:
    """The signing key. Refused if group or others may read it (as ssh refuses), or if it is not Ed25519."""
    serialization, ed25519 = _crypto()
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise CheckpointError(f"cannot read the key file {path}: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise CheckpointError(f"the private key {path} is accessible by others (mode {stat.S_IMODE(mode):04o}); "
                              f"`chmod 600 {path}` and keep it only where checkpoints are signed")
    try:
        key = serialization.load_pem_private_key(_read_key_file(path), password=None)
    except (ValueError, TypeError) as exc:
        raise CheckpointError(f"{path} is not an unencrypted PEM private key ({exc}); make one with "
                              f"`policykit records keygen --out {path}`") from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise CheckpointError(f"{path} is not an Ed25519 key; make one with `policykit records keygen`")
    return key


def load_public_key(path: str | os.PathLike) -> bytes:
    """A trusted public key (raw 32 bytes) from a `.pub` PEM file (a private key file is accepted too)."""
    serialization, ed25519 = _crypto()
    data = _read_key_file(path)
    try:
        if b"PRIVATE KEY" in data:
            key = serialization.load_pem_private_key(data, password=None).public_key()
        else:
            key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise CheckpointError(f"{path} is not a PEM public key ({exc})") from None
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise CheckpointError(f"{path} is not an Ed25519 public key")
    return _raw(key)


# -- checkpoints -----------------------------------------------------------------------------------

@dataclass
class Checkpoint:
    archive: str
    seq: int
    hash: str
    time: str
    key: str = ""        # the signer's public key, hex
    signature: str = ""  # Ed25519 over the canonical JSON of `payload()`

    def payload(self) -> dict[str, Any]:
        return {"format": FORMAT, "archive": self.archive, "seq": self.seq, "hash": self.hash, "time": self.time,
                "key": self.key}

    def to_json(self) -> dict[str, Any]:
        return {**self.payload(), "signature": self.signature}

    @classmethod
    def from_json(cls, data: Any) -> "Checkpoint":
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise CheckpointError("not a policykit checkpoint")
        try:
            return cls(str(data["archive"]), int(data["seq"]), str(data["hash"]), str(data["time"]),
                       str(data["key"]), str(data["signature"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"a checkpoint lacks {exc}") from None

    @property
    def key_id(self) -> str:
        try:
            return fingerprint(bytes.fromhex(self.key))
        except ValueError:
            return "an unreadable key"

    def signature_problem(self, trusted: Iterable[bytes] | None) -> str | None:
        """Why this checkpoint cannot be trusted, or None: signed by its key, and that key trusted."""
        _, ed25519 = _crypto()
        from cryptography.exceptions import InvalidSignature

        try:
            raw = bytes.fromhex(self.key)
            ed25519.Ed25519PublicKey.from_public_bytes(raw).verify(bytes.fromhex(self.signature), _canon(self.payload()))
        except (ValueError, InvalidSignature):
            return f"its signature does not match its content (signed, it says, by {self.key_id})"
        if trusted is not None and raw not in set(trusted):
            return f"it is signed by {self.key_id}, which is not a key given to verify"
        return None


def sign(archive_id: str, seq: int, head_hash: str, key: Any, when: datetime | None = None) -> Checkpoint:
    moment = (when or datetime.now(timezone.utc)).astimezone(timezone.utc)
    cp = Checkpoint(archive_id, seq, head_hash, moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), _raw(key.public_key()).hex())
    cp.signature = key.sign(_canon(cp.payload())).hex()
    return cp


def default_file(archive: Any) -> Path | None:
    """Where an archive's checkpoints are kept beside it: `ARCHIVE.checkpoints` for an SQLite file."""
    path = getattr(archive, "path", None)
    if archive.backend != "sqlite" or not path or path == ":memory:" or str(path).startswith("file:"):
        return None
    return Path(str(path) + ".checkpoints")


def append_to_file(path: Path, cp: Checkpoint) -> None:
    """Append one checkpoint as a JSON line and sync it (the file only ever grows)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    except OSError as exc:
        raise CheckpointError(f"cannot write the checkpoint file {path}: {exc.strerror}") from None
    try:
        os.write(fd, _canon(cp.to_json()) + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)


def read_file(path: Path) -> tuple[list[Checkpoint], list[str]]:
    """The checkpoints of a checkpoint file and a problem per unreadable line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [], []
    except (OSError, UnicodeDecodeError) as exc:
        return [], [f"the checkpoint file {path} cannot be read: {exc}"]
    found, problems = [], []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            found.append(Checkpoint.from_json(json.loads(line)))
        except (ValueError, CheckpointError) as exc:
            problems.append(f"{path}:{n} is not a checkpoint ({exc})")
    return found, problems


def parse_age(text: str) -> timedelta:
    """`90m`, `24h`, `7d`, `2 weeks` …"""
    m = _DURATION.match(text or "")
    if not m:
        raise ValueError(f"{text!r} is not a duration (e.g. 90m, 24h, 7d, 2w)")
    return timedelta(seconds=int(m.group(1)) * _UNITS[m.group(2)[0].lower()])


@dataclass
class CheckpointCheck:
    """What verify learnt about checkpoints: how many, the newest, and every problem (seq, text)."""

    count: int = 0
    latest: Checkpoint | None = None
    problems: list[tuple[int | None, str]] = field(default_factory=list)


def check(archive_id: str | None, in_chain: list[tuple[int, str, str | None]], hashes: dict[int, str],
          head_seq: int, from_file: list[Checkpoint], file_problems: list[str], trusted: list[bytes] | None,
          max_age: timedelta | None, now: datetime | None = None) -> CheckpointCheck:
    """Judge the checkpoints: `in_chain` is (record seq, prev hash of that record, data) of every
    checkpoint record, `hashes` the chain's hash of every record a file checkpoint names."""
    out = CheckpointCheck(problems=[(None, p) for p in file_problems])
    good: list[Checkpoint] = []
    hashes = {**hashes, **{seq - 1: prev for seq, prev, _ in in_chain}}  # the walk checked each prev link

    recorded = {seq: data for seq, _, data in in_chain}

    def judge(cp: Checkpoint, where: str, at: int | None) -> None:
        problem = cp.signature_problem(trusted)
        if problem is None and cp.archive != archive_id:
            problem = (f"it was signed for archive {cp.archive}, but this is archive {archive_id}: the database "
                       f"was replaced")
        if problem is None and cp.seq > head_seq:
            problem = (f"it signs record {cp.seq}, but the chain ends at record {head_seq}: records were cut "
                       f"from the end")
        if problem is None and hashes.get(cp.seq) != cp.hash:
            problem = (f"it signs record {cp.seq} with hash {cp.hash[:12]}..., but the chain's record {cp.seq} "
                       f"has {str(hashes.get(cp.seq))[:12]}...: the chain was rewritten")
        if problem is None and at is None and f'"signature":"{cp.signature}"' not in (recorded.get(cp.seq + 1) or ""):
            problem = (f"the chain has no checkpoint record {cp.seq + 1} with its signature: it was removed, or "
                       f"the records after it were renumbered")
        if problem is not None:
            out.problems.append((at if at is not None else min(cp.seq, head_seq + 1),
                                 f"{where} (record {cp.seq}, {cp.time}): {problem}"))
        else:
            good.append(cp)

    for seq, prev, data in in_chain:
        try:
            cp = Checkpoint.from_json(json.loads(data) if data else None)
        except (ValueError, CheckpointError) as exc:
            out.problems.append((seq, f"checkpoint record {seq} is unreadable ({exc})"))
            continue
        if cp.seq != seq - 1:
            out.problems.append((seq, f"checkpoint record {seq} signs record {cp.seq}, not the record before it: "
                                      f"an old checkpoint was replayed, or records were renumbered"))
            continue
        if cp.hash != prev:
            out.problems.append((seq, f"checkpoint record {seq} signs record {cp.seq} with hash {cp.hash[:12]}..., "
                                      f"but the chain's record {cp.seq} has {prev[:12]}...: the chain before it "
                                      f"was rewritten"))
            continue
        judge(cp, f"checkpoint record {seq}", seq)
    for cp in from_file:
        judge(cp, "a checkpoint in the checkpoint file", None)
    out.count = len({(c.seq, c.signature) for c in good})  # the chain and the file hold the same ones
    out.latest = max(good, key=lambda c: (c.seq, c.time), default=None)
    if trusted is not None and out.latest is None and not out.problems:
        out.problems.append((None, "no checkpoint signed by the given key: nothing proves this chain is the one "
                                   "that was signed (make one with `policykit records checkpoint --key KEY`)"))
    if max_age is not None and out.latest is not None:
        newest = max(c.time for c in good)
        when = datetime.fromisoformat(newest.replace("Z", "+00:00"))
        if (now or datetime.now(timezone.utc)) - when > max_age:
            out.problems.append((None, f"the newest checkpoint is from {newest}, older than --max-age: the archive "
                                       f"may have been rolled back to an old checkpoint, or checkpoints stopped"))
    return out


__all__ = ["Checkpoint", "CheckpointCheck", "FORMAT", "append_to_file", "check", "default_file", "fingerprint",
           "generate_key", "load_private_key", "load_public_key", "parse_age", "read_file", "sign"]
