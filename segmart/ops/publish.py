"""Write, audit, publish: the marts of a build reach ``data_mart`` together, after their tests.

The nightly job builds everything bound for ``data_mart`` in the build schema
``data_mart_build`` (see ``macros/generate_schema_name.sql``) and runs every
data test there. Only when the whole ``dbt build`` passed does :func:`publish`
move the marts of the run into ``data_mart``, in one transaction:

1. lock the live marts being replaced (``ACCESS EXCLUSIVE``, under the lock
   timeout: a BI session that holds one makes the attempt give up, and the
   publication is retried like a build);
2. note the views that read them (the users' own views on top of the marts),
   and drop the foreign keys that point at them (they are added again, by
   ``finish_mart_keys``, right after the commit);
3. move each live mart out to ``data_mart_retired`` and its new build in;
4. re-create the noted views from their definitions, so they read the new
   marts;
5. send the retired incremental marts back to the build schema, as the base
   of the next build's increment; after the commit, drop the other retired
   marts (a drop scans the shared buffers: not while the marts are locked).

Moving a table between schemas rewrites no data, so the transaction is short
whatever the size of the marts, and readers see either every mart of the
previous build or every mart of this one: a reader that read a mart before
the commit holds a lock that the publication waits for, and one that starts
after it sees the new marts. Grants travel with the tables (the build schema
has the same default privileges as ``data_mart``, and no usage for the BI
role), and so do comments and primary keys.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import psycopg2.errors
import psycopg2.extensions
from psycopg2 import sql

from segmart import db
from segmart.config import Connection, SegmartError, first_line
from segmart.ops import locks

log = logging.getLogger("segmart")

LIVE_SCHEMA = locks.MART_SCHEMA
BUILD_SCHEMA = locks.MART_BUILD_SCHEMA
RETIRED_SCHEMA = "data_mart_retired"
# errors of a publication attempt that a later attempt can get past
_RETRYABLE = (psycopg2.errors.LockNotAvailable, psycopg2.errors.DeadlockDetected)

LOG_DDL = """
create schema if not exists ops;
create table if not exists ops.publish_log (
    publish_id bigint generated always as identity primary key,
    published_at timestamptz not null default clock_timestamp(),
    run_id bigint,
    marts text[] not null,
    attempts integer not null,
    lock_held_seconds numeric(10, 3) not null
)
"""


@dataclass(frozen=True)
class Mart:
    """A relation of ``data_mart`` that the run rebuilt in the build schema."""

    name: str
    kind: str  # 'table' or 'view'
    is_incremental: bool = False


@dataclass
class Publication:
    marts: list[str] = field(default_factory=list)
    attempts: int = 0
    lock_held_seconds: float = 0.0


class PublishError(SegmartError):
    """The build schema does not hold what the run says it built."""


def marts_of_run(outcome: locks.DbtOutcome, manifest: Path | None = None) -> list[Mart]:
    """The ``data_mart`` models and seeds that this run built successfully (in the build schema)."""
    path = manifest or locks.target_path() / "manifest.json"
    try:
        nodes = json.loads(path.read_text(encoding="utf-8"))["nodes"]
    except (OSError, ValueError, KeyError) as exc:
        raise PublishError(f"cannot read dbt's manifest {path}: {exc}") from exc
    marts = []
    for uid, status in sorted(outcome.statuses.items()):
        node = nodes.get(uid)
        if status != "success" or node is None or node.get("resource_type") not in {"model", "seed"}:
            continue
        if node.get("schema") != BUILD_SCHEMA:
            continue
        materialized = node.get("config", {}).get("materialized", "table")
        marts.append(
            Mart(
                name=node.get("alias") or node["name"],
                kind="view" if materialized == "view" else "table",
                is_incremental=materialized == "incremental",
            )
        )
    return marts


def failed_tests(outcome: locks.DbtOutcome, manifest: Path | None = None) -> list[str]:
    """``<test> on <model>[, <model>]`` for every test that failed or errored in the run."""
    path = manifest or locks.target_path() / "manifest.json"
    try:
        nodes = json.loads(path.read_text(encoding="utf-8"))["nodes"]
    except (OSError, ValueError, KeyError):
        nodes = {}
    out = []
    for uid, status in sorted(outcome.statuses.items()):
        if not uid.startswith(("test.", "unit_test.")) or status not in {"fail", "error"}:
            continue
        node = nodes.get(uid, {})
        models = [dep.split(".")[-1] for dep in node.get("depends_on", {}).get("nodes", []) if dep.startswith("model.")]
        out.append(f"{node.get('name', uid.split('.')[2])} on {', '.join(models) or 'the project'} ({status})")
    return out


def publish(
    conn_info: Connection,
    marts: list[Mart],
    *,
    lock_timeout: float,
    retries: int,
    retry_wait: float,
    run_id: int | None = None,
) -> Publication:
    """Move ``marts`` from the build schema into ``data_mart`` in one transaction, retrying lock waits."""
    result = Publication(marts=[mart.name for mart in marts])
    if not marts:
        return result
    pg = db.connect(conn_info, application_name=f"{locks.OWN_APPLICATION_PREFIX}{os.getpid()}-publish")
    try:
        with pg.cursor() as cur:
            cur.execute(LOG_DDL)
            cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(RETIRED_SCHEMA)))
        pg.commit()
        _drop_retired(pg)
        first_blocked: float | None = None
        while True:
            result.attempts += 1
            try:
                result.lock_held_seconds = _publish_once(pg, marts, lock_timeout=lock_timeout)
            except _RETRYABLE as exc:
                pg.rollback()
                first_blocked = first_blocked or time.monotonic() - lock_timeout
                held = _held_by_others(pg, [mart.name for mart in marts])
                names = ", ".join(f"{LIVE_SCHEMA}.{name}" for name in held) or "a mart"
                if result.attempts > retries:
                    blockers = locks.describe_blockers(pg, [(LIVE_SCHEMA, name) for name in held])
                    raise locks.LockGiveUp(
                        f"The build gave up {time.monotonic() - first_blocked:.0f} s after it first waited for a "
                        f"lock ({result.attempts} attempts) to publish the new marts: {names} stayed locked "
                        f"{'by another session ' if blockers.outside else ''}"
                        f"(lock timeout {lock_timeout:g} s, {retries} retries; {first_line(exc)}). "
                        + blockers.text
                        + " Nothing was published: data_mart keeps the previous build, complete and readable."
                        + (
                            " Ask the user to close that session (or its open transaction) and run the build again."
                            if blockers.outside
                            else " Run the build again."
                        )
                    ) from exc
                log.warning(
                    "lock timeout (%.1f s) on %s: still locked; attempt %d of %d to publish in %.0f s",
                    lock_timeout,
                    names,
                    result.attempts + 1,
                    retries + 1,
                    retry_wait,
                )
                time.sleep(retry_wait)
                continue
            except psycopg2.Error:
                pg.rollback()
                raise
            with pg.cursor() as cur:
                cur.execute(
                    "insert into ops.publish_log (run_id, marts, attempts, lock_held_seconds) values (%s, %s, %s, %s)",
                    (run_id, result.marts, result.attempts, round(result.lock_held_seconds, 3)),
                )
            pg.commit()
            log.info(
                "published %d marts into %s (attempt %d; locks held %.3f s)",
                len(marts),
                LIVE_SCHEMA,
                result.attempts,
                result.lock_held_seconds,
            )
            return result
    finally:
        pg.close()


def _publish_once(pg: psycopg2.extensions.connection, marts: list[Mart], *, lock_timeout: float) -> float:
    """One attempt, committed on success; returns how long the live marts were locked."""
    live_of = {mart.name: sql.Identifier(LIVE_SCHEMA, mart.name) for mart in marts}
    incremental = {mart.name: mart.is_incremental for mart in marts}
    with pg.cursor() as cur:
        cur.execute("set local lock_timeout = %s", (f"{int(lock_timeout * 1000)}ms",))
        cur.execute(
            "select c.relname from pg_class as c where c.relnamespace = %s::regnamespace and c.relname = any(%s)",
            (BUILD_SCHEMA, [mart.name for mart in marts]),
        )
        missing = {mart.name for mart in marts} - {row[0] for row in cur.fetchall()}
        if missing:
            raise PublishError(f"the build left no {BUILD_SCHEMA}.{', '.join(sorted(missing))} to publish")
        cur.execute(
            "select c.relname, c.relkind = 'v' from pg_class as c"
            " where c.relnamespace = %s::regnamespace and c.relname = any(%s)",
            (LIVE_SCHEMA, [mart.name for mart in marts]),
        )
        # the live relation as it is (a mart may have changed from view to table), incremental as built now
        replaced = [
            Mart(name, "view" if is_view else "table", is_incremental=incremental[name] and not is_view)
            for name, is_view in cur.fetchall()
        ]
        started = time.monotonic()
        # tables only: LOCK TABLE on a view would also lock what the view reads
        tables = [live_of[mart.name] for mart in replaced if mart.kind == "table"]
        if tables:
            cur.execute(sql.SQL("lock table {} in access exclusive mode").format(sql.SQL(", ").join(tables)))
        views = _dependent_views(cur, [mart.name for mart in replaced], skip=[mart.name for mart in marts])
        _drop_keys_to(cur, [mart.name for mart in replaced if mart.kind == "table"])
        for mart in replaced:
            cur.execute(_set_schema(mart, LIVE_SCHEMA, RETIRED_SCHEMA))
        for mart in marts:
            cur.execute(_set_schema(mart, BUILD_SCHEMA, LIVE_SCHEMA))
        for name, definition in views:
            cur.execute("savepoint segmart_view")
            try:
                cur.execute(sql.SQL("create or replace view {} as ").format(sql.SQL(name)) + sql.SQL(definition))
            except psycopg2.Error as exc:
                cur.execute("rollback to savepoint segmart_view")
                log.warning("view %s no longer fits the new marts and is dropped: %s", name, first_line(exc))
        for mart in replaced:
            if mart.is_incremental:
                cur.execute(_set_schema(mart, RETIRED_SCHEMA, BUILD_SCHEMA))
    pg.commit()
    held = time.monotonic() - started
    # dropping a table scans the shared buffers for its pages (about 1 s for 39 marts at 3M lines):
    # done after the commit, when no reader can reach data_mart_retired any more
    _drop_retired(pg)
    return held


def _drop_retired(pg: psycopg2.extensions.connection) -> None:
    """Drop what an earlier publication retired (also what a publication killed after its commit left)."""
    with pg.cursor() as cur:
        cur.execute(
            "select c.relname, c.relkind from pg_class as c"
            " where c.relnamespace = %s::regnamespace and c.relkind in ('r', 'v', 'p')",
            (RETIRED_SCHEMA,),
        )
        for name, relkind in cur.fetchall():
            kind = sql.SQL("view" if relkind == "v" else "table")
            cur.execute(sql.SQL("drop {} if exists {} cascade").format(kind, sql.Identifier(RETIRED_SCHEMA, name)))
    pg.commit()


def _set_schema(mart: Mart, source: str, target: str) -> sql.Composed:
    return sql.SQL("alter {} {} set schema {}").format(
        sql.SQL(mart.kind), sql.Identifier(source, mart.name), sql.Identifier(target)
    )


def _dependent_views(cur: psycopg2.extensions.cursor, names: list[str], *, skip: list[str]) -> list[tuple[str, str]]:
    """(qualified name, definition) of the views outside this publication that read one of ``names``."""
    if not names:
        return []
    cur.execute(
        """
        select distinct view_class.oid::regclass::text, pg_get_viewdef(view_class.oid), view_class.oid
        from pg_depend as dep
        inner join pg_rewrite as rule on rule.oid = dep.objid
        inner join pg_class as view_class on view_class.oid = rule.ev_class
        inner join pg_class as base on base.oid = dep.refobjid
        where dep.classid = 'pg_rewrite'::regclass
            and dep.refclassid = 'pg_class'::regclass
            and base.relnamespace = %s::regnamespace
            and base.relname = any(%s)
            and view_class.oid <> base.oid
            and view_class.relkind = 'v'
            and not (view_class.relnamespace = %s::regnamespace and view_class.relname = any(%s))
        order by view_class.oid
        """,
        (LIVE_SCHEMA, names, LIVE_SCHEMA, skip),
    )
    return [(name, definition.rstrip().rstrip(";")) for name, definition, _ in cur.fetchall()]


def _drop_keys_to(cur: psycopg2.extensions.cursor, names: list[str]) -> None:
    """Drop the foreign keys from or to the marts being replaced; ``finish_mart_keys`` adds them back."""
    if not names:
        return
    cur.execute(
        """
        select con.conrelid::regclass::text, con.conname
        from pg_constraint as con
        inner join pg_class as child on child.oid = con.conrelid
        inner join pg_class as parent on parent.oid = con.confrelid
        where con.contype = 'f'
            and (
                (child.relnamespace = %s::regnamespace and child.relname = any(%s))
                or (parent.relnamespace = %s::regnamespace and parent.relname = any(%s))
            )
        """,
        (LIVE_SCHEMA, names, LIVE_SCHEMA, names),
    )
    for table, name in cur.fetchall():
        cur.execute(sql.SQL("alter table {} drop constraint {}").format(sql.SQL(table), sql.Identifier(name)))


def _held_by_others(pg: psycopg2.extensions.connection, names: list[str]) -> list[str]:
    """The live marts among ``names`` on which another session holds a lock now."""
    with pg.cursor() as cur:
        cur.execute(
            """
            select distinct c.relname
            from pg_locks as l
            inner join pg_class as c on c.oid = l.relation
            where l.granted and l.pid <> pg_backend_pid()
                and c.relnamespace = %s::regnamespace and c.relname = any(%s)
            order by 1
            """,
            (LIVE_SCHEMA, names),
        )
        held = [row[0] for row in cur.fetchall()]
    pg.rollback()
    return held
