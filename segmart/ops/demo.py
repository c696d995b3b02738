"""Keeping the bundled demo apart from the user's own data.

The sample loads are recorded in ``ops.sample_loads`` in the same transaction
that lands them. The first own file to land (of any kind: sales, bank or events)
removes every sample row from staging in *its* transaction, so there is no
moment at which the database holds both, and no kill can leave half of it.
When nothing else has landed, the load-id sequence restarts too, so the own
data gets the same ids a clean database would give it. A ``full_refresh``
task is recorded in ``ops.pending`` (also in that transaction) so that the
marts are rebuilt from scratch even if the run dies before dbt.
"""

from __future__ import annotations

import logging

import psycopg2.extensions
from psycopg2 import sql

log = logging.getLogger("segmart")

FULL_REFRESH = "full_refresh"


def mark_sample(cur: psycopg2.extensions.cursor, load_id: int) -> None:
    """``before_commit`` hook of the sample's loads."""
    cur.execute("insert into ops.sample_loads (load_id) values (%s) on conflict do nothing", (load_id,))


def own_data_landed(pg: psycopg2.extensions.connection) -> bool:
    with pg.cursor() as cur:
        cur.execute(
            """
            select exists (
                select 1 from staging.load_batches as b
                where not exists (select 1 from ops.sample_loads as s where s.load_id = b.load_id)
            )
            """
            if _has_staging(cur)
            else "select false"
        )
        landed = bool(cur.fetchone()[0])
    pg.rollback()
    return landed


def demo_only(pg: psycopg2.extensions.connection) -> bool:
    """True when the database holds the demo and nothing of the user's (its report goes to reports/demo/)."""
    with pg.cursor() as cur:
        cur.execute("select to_regclass('ops.sample_loads') is not null")
        has_table = bool(cur.fetchone()[0])
        sample = False
        if has_table:
            cur.execute("select exists (select 1 from ops.sample_loads)")
            sample = bool(cur.fetchone()[0])
    pg.rollback()
    return sample and not own_data_landed(pg)


def _has_staging(cur: psycopg2.extensions.cursor) -> bool:
    cur.execute("select to_regclass('staging.load_batches') is not null")
    return bool(cur.fetchone()[0])


def remove_sample(cur: psycopg2.extensions.cursor) -> int:
    """``before_insert`` hook of own files: delete the demo's rows; returns the rows removed."""
    cur.execute("select pg_advisory_xact_lock(hashtext('segmart.sample'))")
    cur.execute(
        """
        select b.load_id, b.target, b.file_name, b.rows_loaded
        from staging.load_batches as b
        inner join ops.sample_loads as s on s.load_id = b.load_id
        order by b.load_id
        """
    )
    batches = cur.fetchall()
    if not batches:
        return 0
    ids = [load_id for load_id, *_ in batches]
    removed = 0
    for target in sorted({target for _, target, _, _ in batches}):
        cur.execute(sql.SQL("delete from staging.{} where load_id = any(%s)").format(sql.Identifier(target)), (ids,))
        removed += cur.rowcount
    cur.execute("delete from staging.load_quarantine where load_id = any(%s)", (ids,))
    cur.execute("delete from staging.load_batches where load_id = any(%s)", (ids,))
    cur.execute("delete from ops.sample_loads where load_id = any(%s)", (ids,))
    cur.execute("select not exists (select 1 from staging.load_batches)")
    if cur.fetchone()[0]:
        # nothing else ever landed: give the own data the ids a clean database would
        cur.execute("alter table staging.load_batches alter column load_id restart with 1")
    cur.execute(
        """
        insert into ops.pending (task, reason) values (%s, 'the demo data was removed')
        on conflict (task) do nothing
        """,
        (FULL_REFRESH,),
    )
    log.warning(
        "the first own file is landing: removed the demo data (%d load(s): %s; %s rows) from staging, in the "
        "same transaction; every mart is rebuilt from your data alone",
        len(batches),
        ", ".join(name for _, _, name, _ in batches),
        f"{removed:,}",
    )
    return removed


def pending_full_refresh(pg: psycopg2.extensions.connection) -> str | None:
    with pg.cursor() as cur:
        cur.execute("select reason from ops.pending where task = %s", (FULL_REFRESH,))
        row = cur.fetchone()
    pg.rollback()
    return None if row is None else row[0]


def clear_full_refresh(pg: psycopg2.extensions.connection) -> None:
    with pg.cursor() as cur:
        cur.execute("delete from ops.pending where task = %s", (FULL_REFRESH,))
    pg.commit()
