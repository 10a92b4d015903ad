"""Job locks that keep two processes (or replicas) from running the same job at once.

PostgreSQL holds a session-level advisory lock on a connection kept open for the
run: the server releases it by itself if the process dies. SQLite has no such
lock, so a lease row in ``job_lock`` stands in: taken or taken over (when
expired) in one statement, renewed by a thread while the run goes on, deleted
at the end. A process killed with SIGKILL leaves its lease to expire after
``ttl_s`` seconds; until then the job is reported as held.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import Table, and_, delete, select, text, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DBAPIError

from sfsync.errors import ConflictError
from sfsync.logs import get_logger
from sfsync.store.db import Store
from sfsync.store.models import JobLock

__all__ = [
    "DEFAULT_TTL_S",
    "SYNC_LOCK",
    "LockLost",
    "advisory_key",
    "default_holder",
    "job_lock",
]

log = get_logger(__name__)

DEFAULT_TTL_S = 120.0
# The lock of every step that reads or writes the mirror, the projects or the
# outbox (pull, handoff, KPIs, push, reconcile, the backfill's writes): one
# name, so that no two of them interleave across processes or replicas.
SYNC_LOCK = "sync"
# How often a waiting caller tries the lock again.
_WAIT_POLL_S = 1.0
_TABLE: Table = JobLock.__table__  # type: ignore[attr-defined]


class LockLost:
    """Set when a lease could not be renewed: another process may now take the job."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def __bool__(self) -> bool:
        return self.event.is_set()


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``name`` (the same in every process)."""
    digest = hashlib.blake2b(f"sfsync-job:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def default_holder() -> str:
    """Who holds a lease: host, process and a per-acquisition suffix."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _held(name: str) -> ConflictError:
    return ConflictError(
        f"job {name!r} is running in another process or replica",
        hint="wait for that run to finish; a scheduled run simply tries again "
        "at its next time",
    )


@contextmanager
def job_lock(
    store: Store,
    name: str,
    *,
    holder: str | None = None,
    ttl_s: float = DEFAULT_TTL_S,
    wait_s: float = 0.0,
) -> Iterator[LockLost]:
    """Hold the lock on job ``name`` for the block, or raise ConflictError.

    The error comes at once, or after trying for ``wait_s`` seconds (for a
    long-running command that should let a scheduled cycle finish rather than
    fail). ``ttl_s`` only matters on SQLite (the lease length); PostgreSQL's
    advisory lock lives as long as the connection. The yielded ``LockLost`` is
    true when a lease renewal failed, so a long run can stop between batches.
    """
    holder = holder or default_holder()
    deadline = time.monotonic() + wait_s
    with contextlib.ExitStack() as stack:
        while True:
            attempt = (
                _advisory(store, name)
                if store.dialect == "postgresql"
                else _lease(store, name, holder=holder, ttl_s=ttl_s)
            )
            try:
                lost = stack.enter_context(attempt)
            except ConflictError:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise
                time.sleep(min(_WAIT_POLL_S, left))
                continue
            break
        yield lost


@contextmanager
def _advisory(store: Store, name: str) -> Iterator[LockLost]:
    key = advisory_key(name)
    connection = store.engine.connect()
    try:
        got = connection.execute(
            text("SELECT pg_try_advisory_lock(:k)"), {"k": key}
        ).scalar()
        connection.commit()
        if not got:
            raise _held(name)
        log.debug("job_lock_acquired", lock=name, kind="advisory")
        try:
            yield LockLost()
        finally:
            try:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                connection.commit()
            except DBAPIError:
                # The lock's connection is gone (the server restarted or cut
                # it), and an advisory lock dies with its connection: it is
                # already released.
                log.warning("job_lock_connection_lost", lock=name)
    finally:
        with contextlib.suppress(DBAPIError):
            connection.close()


def _now() -> datetime:
    return datetime.now(UTC)


def _try_lease(store: Store, name: str, holder: str, ttl_s: float) -> bool:
    now = _now()
    row = {
        "name": name,
        "holder": holder,
        "acquired_at": now,
        "expires_at": now + timedelta(seconds=ttl_s),
    }
    statement = sqlite.insert(_TABLE).values(row)
    # One statement: insert the lease, or take over one that has expired.
    # SQLite runs it atomically, so two processes cannot both win.
    statement = statement.on_conflict_do_update(
        index_elements=["name"],
        set_={
            "holder": statement.excluded.holder,
            "acquired_at": statement.excluded.acquired_at,
            "expires_at": statement.excluded.expires_at,
        },
        where=_TABLE.c.expires_at < now,
    )
    with store.transaction() as session:
        session.execute(statement)
        current = session.execute(
            select(_TABLE.c.holder).where(_TABLE.c.name == name)
        ).scalar()
    return current == holder


def _renew(store: Store, name: str, holder: str, ttl_s: float) -> bool:
    with store.transaction() as session:
        result = session.execute(
            update(_TABLE)
            .where(and_(_TABLE.c.name == name, _TABLE.c.holder == holder))
            .values(expires_at=_now() + timedelta(seconds=ttl_s))
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def _holder_is_dead(holder: str) -> bool:
    """Whether ``holder`` was a process on this host that no longer runs."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname()[:40] or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _clear_dead_lease(store: Store, name: str) -> bool:
    """Drop a lease whose process was killed, instead of waiting for its expiry."""
    with store.transaction() as session:
        current = session.execute(
            select(_TABLE.c.holder).where(_TABLE.c.name == name)
        ).scalar()
        if current is None or not _holder_is_dead(str(current)):
            return False
        session.execute(
            delete(_TABLE).where(_TABLE.c.name == name, _TABLE.c.holder == current)
        )
    log.warning("job_lock_dead_holder_cleared", lock=name, holder=current)
    return True


@contextmanager
def _lease(store: Store, name: str, *, holder: str, ttl_s: float) -> Iterator[LockLost]:
    if not _try_lease(store, name, holder, ttl_s) and not (
        _clear_dead_lease(store, name) and _try_lease(store, name, holder, ttl_s)
    ):
        raise _held(name)
    log.debug("job_lock_acquired", lock=name, kind="lease", holder=holder)
    lost = LockLost()
    done = threading.Event()

    def keep_alive() -> None:
        # Renew at a third of the lease so that two missed renewals still
        # leave time before it expires.
        while not done.wait(ttl_s / 3):
            try:
                renewed = _renew(store, name, holder, ttl_s)
            except Exception as exc:  # a database hiccup: try again next tick
                log.warning("job_lock_renew_failed", lock=name, error=exc)
                continue
            if not renewed:
                log.error("job_lock_lost", lock=name, holder=holder)
                lost.event.set()
                return

    renewer = threading.Thread(target=keep_alive, name=f"lease-{name}", daemon=True)
    renewer.start()
    try:
        yield lost
    finally:
        done.set()
        renewer.join(timeout=5)
        with store.transaction() as session:
            session.execute(
                delete(_TABLE).where(
                    and_(_TABLE.c.name == name, _TABLE.c.holder == holder)
                )
            )
