"""Errors the archive raises. Every message names the archive and says what to do; none is a traceback."""

from __future__ import annotations


class ArchiveError(Exception):
    """The archive cannot be opened, read or written."""


class ForeignArchive(ArchiveError):
    """The file or database exists but is not a policykit archive (or is a newer format)."""


class CorruptArchive(ArchiveError):
    """The database file is damaged below the level of records (SQLite reports it malformed)."""


class DiskFull(ArchiveError):
    """A write failed for lack of space. The batch was rolled back: nothing of it was recorded."""


class CheckpointError(ArchiveError):
    """A signing or verifying key cannot be used (missing, unreadable, not Ed25519, readable by others),
    or a checkpoint cannot be read or written."""


__all__ = ["ArchiveError", "CheckpointError", "CorruptArchive", "DiskFull", "ForeignArchive"]
