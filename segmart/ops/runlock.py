"""One build at a time: a PostgreSQL advisory lock held for the whole run.

The lock lives in the database the build writes to, so it also keeps two
checkouts (or two machines) sharing one server apart, and the server releases
it when the holder's connection dies, so a killed run never leaves it stuck.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2.extensions

from segmart.config import SegmartError

log = logging.getLogger("segmart")

LOCK_KEY = "segmart.build"
POLL_SECONDS = 1.0


class RunInProgress(SegmartError):
    """Another build holds the run lock and did not finish within the wait."""


def _holder(pg: psycopg2.extensions.connection) -> str:
    with pg.cursor() as cur:
        cur.execute(
            """
            select a.pid, a.usename, a.application_name, a.client_addr::text, a.backend_start
            from pg_locks as l
            inner join pg_stat_activity as a on a.pid = l.pid
            where l.locktype = 'advisory' and l.granted
                and l.objid = (hashtext(%s)::bigint & 4294967295)::oid
            limit 1
            """,
            (LOCK_KEY,),
        )
        row = cur.fetchone()
    pg.rollback()
    if row is None:
        return "another segmart build"
    pid, user, app, addr, since = row
    return (
        f"segmart build in session pid {pid} (user {user}, application {app!r}, "
        f"from {addr or 'local socket'}, since {since:%Y-%m-%d %H:%M:%S %Z})"
    )


@contextmanager
def run_lock(pg: psycopg2.extensions.connection, *, wait: float) -> Iterator[None]:
    """Hold the build lock on ``pg`` (a connection kept open for the run), waiting at most ``wait`` seconds."""
    deadline = time.monotonic() + wait
    announced = False
    while True:
        with pg.cursor() as cur:
            cur.execute("select pg_try_advisory_lock(hashtext(%s))", (LOCK_KEY,))
            got = cur.fetchone()[0]
        pg.commit()
        if got:
            break
        if not announced:
            log.info("another build is running (%s); waiting up to %.0f s for it to finish", _holder(pg), wait)
            announced = True
        if time.monotonic() >= deadline:
            raise RunInProgress(
                f"Another build is still running after {wait:.0f} s of waiting: {_holder(pg)}. This run did "
                "nothing (no file was loaded or moved). Let the other run finish; to wait longer set "
                "SEGMART_RUN_WAIT (seconds)."
            )
        time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))
    try:
        yield
    finally:
        try:
            with pg.cursor() as cur:
                cur.execute("select pg_advisory_unlock(hashtext(%s))", (LOCK_KEY,))
            pg.commit()
        except psycopg2.Error:
            log.debug("could not release the build lock explicitly; the server drops it with the connection")
