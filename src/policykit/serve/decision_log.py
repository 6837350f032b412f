"""The optional decision log: every verdict served is recorded in the public-records archive first.

It is a `policykit.moderator.Moderator` session (docs/records.md) run in one thread of its own, which
opens the archive and is its only user (a SQLite connection belongs to the thread that opened it, and
a Moderator is not for sharing). Requests hand their events over and wait; the thread takes whatever
has queued up meanwhile and records it in one transaction: group commit, so a durable disk sync is
paid per batch, not per request, and under concurrent load batches grow by themselves. A verdict is
answered only once its batch is committed: a verdict a caller has read is in the archive.

The moderator is told not to fill `author_history` from the archive, so the verdict recorded and
served is the library's verdict for the event as sent. What the moderator does otherwise is kept: a
redelivery of the same content is not recorded twice and is answered with the verdict recorded the
first time (`record.duplicate` true), and removals are documented before they are recorded.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from dataclasses import dataclass
from typing import Any, Callable

from ..moderator import Moderator, Outcome
from ..records import ArchiveError, open_archive
from .registry import Served

log = logging.getLogger("policykit.serve")

_STOP = object()
_MODERATORS_KEPT = 16  # one per policy version still in use; older versions are dropped first


@dataclass
class _Job:
    served: Served
    events: list[Any]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future


def _settle(future: asyncio.Future, result: Any, error: BaseException | None) -> None:
    if future.done():  # the request gave up (time limit, client gone): nothing to answer
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class DecisionLog:
    """Records verdicts in the archive at `url` (SQLite path or postgresql:// URL) in batches of at most
    `batch` events; `on_recorded(duplicate)` is called for each recorded outcome (metrics)."""

    def __init__(self, url: str, *, batch: int = 256, on_recorded: Callable[[bool], None] | None = None) -> None:
        self.url = url
        self.batch = batch
        self.on_recorded = on_recorded or (lambda duplicate: None)
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._moderators: dict[tuple[str, str], Moderator] = {}
        self._archive: Any = None

    def start(self) -> None:
        """Open the archive (in the log's thread) and wait until it is open; raise ArchiveError if not."""
        ready: queue.SimpleQueue[BaseException | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="policykit-decision-log",
                                        daemon=True)
        self._thread.start()
        failure = ready.get()
        if failure is not None:
            self._thread.join()
            self._thread = None
            raise failure

    async def record(self, served: Served, events: list[Any]) -> list[Outcome]:
        """Judge and record `events` with `served`'s policy; the outcomes once they are durable."""
        loop = asyncio.get_running_loop()
        job = _Job(served, events, loop, loop.create_future())
        self._queue.put(job)
        return await job.future

    def close(self) -> None:
        """Record what is queued, then close the archive."""
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join()
        self._thread = None

    # -- the log's thread ------------------------------------------------------------------------

    def _run(self, ready: "queue.SimpleQueue[BaseException | None]") -> None:
        try:
            self._archive = open_archive(self.url)
        except (ArchiveError, OSError) as exc:
            ready.put(exc if isinstance(exc, ArchiveError) else ArchiveError(str(exc)))
            return
        ready.put(None)
        try:
            while True:
                jobs, stop = self._take()
                if jobs:
                    self._commit(jobs)
                if stop:
                    return
        finally:
            self._archive.close()

    def _take(self) -> tuple[list[_Job], bool]:
        """The first job (waiting for it), then whatever else has queued, up to `batch` events."""
        first = self._queue.get()
        if first is _STOP:
            return [], True
        jobs, count = [first], len(first.events)
        while count < self.batch:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is _STOP:
                return jobs, True
            jobs.append(job)
            count += len(job.events)
        return jobs, False

    def _commit(self, jobs: list[_Job]) -> None:
        """One transaction per policy version among the jobs (usually one)."""
        groups: dict[int, list[_Job]] = {}
        for job in jobs:
            groups.setdefault(id(job.served.policy), []).append(job)
        for group in groups.values():
            error: BaseException | None = None
            try:
                outcomes = self._moderator(group[0].served).handle_many([e for job in group for e in job.events])
            except ArchiveError as exc:
                log.error("decision log: %s", exc)
                error = exc
            except Exception as exc:  # a bug of ours: the requests get a 500, the log thread lives on
                log.exception("decision log failed")
                error = exc
            start = 0
            for job in group:
                result = None
                if error is None:
                    result = outcomes[start:start + len(job.events)]
                    start += len(job.events)
                    for outcome in result:
                        self.on_recorded(outcome.duplicate)
                try:
                    job.loop.call_soon_threadsafe(_settle, job.future, result, error)
                except RuntimeError:  # the server's loop is closed: nobody is waiting
                    pass

    def _moderator(self, served: Served) -> Moderator:
        policy = served.policy
        key = (policy.name, policy.digest)
        moderator = self._moderators.get(key)
        if moderator is None:
            if len(self._moderators) >= _MODERATORS_KEPT:
                self._moderators.pop(next(iter(self._moderators)))
            moderator = self._moderators[key] = Moderator(policy, self._archive, fill_history=False)
        return moderator


__all__ = ["DecisionLog"]
