"""Queries against the test database, and the reset that makes a test start from nothing."""

from __future__ import annotations

from collections.abc import Iterable

import psycopg2.extensions
from psycopg2 import sql

from pytests.support import testdb  # noqa: F401  (chooses the test database: see its docstring)

PROJECT_SCHEMAS = (
    "staging",
    "stg",
    "intermediate",
    "data_mart",
    "data_mart_build",
    "data_mart_retired",
    "dbt",
    "snapshots",
    "ops",
    "clv",
)


def reset_database(conn: psycopg2.extensions.connection) -> None:
    """Drop every schema the project creates, so a test starts from nothing."""
    conn.rollback()
    with conn.cursor() as cur:
        for schema in PROJECT_SCHEMAS:
            cur.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema)))
    conn.commit()


def scalar(conn: psycopg2.extensions.connection, query: str, params: tuple = ()) -> object:
    with conn.cursor() as cur:
        cur.execute(query, params)
        row = cur.fetchone()
    conn.commit()
    return None if row is None else row[0]


def rows(conn: psycopg2.extensions.connection, query: str, params: tuple = ()) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(query, params)
        out = cur.fetchall()
    conn.commit()
    return out


# What a daily build may leave different from a full refresh of the same data, by design
# (docs/marts.md, "Definitions"): the warm-started k-means records how it started and how many Lloyd
# steps it took; the elbow is recomputed only on a full refresh or for a new source; the
# CLV fits carry their time.
# None = the whole relation.
BUILD_DEPENDENT: dict[str, list[str] | None] = {
    "customer_clusters": ["iterations", "is_warm_started"],
    "rfm_cluster_elbow": None,
    # when the CLV step fitted and how long it took (the parameters are the same on the same data)
    "clv_model_fit": ["fitted_at", "fit_seconds"],
}


# The lineage of a line (its load and its line in that load's file): the same data from
# another source (an XLSX with a report title, a 1C pull) lands on other line numbers.
LINEAGE_COLUMNS = ("sales_line_id", "load_id", "line_number")


def mart_checksums(
    pg: psycopg2.extensions.connection,
    names: Iterable[str] | None = None,
    *,
    build_independent: bool = False,
    ignore_columns: Iterable[str] = (),
) -> dict[str, str]:
    """Row count and an order-independent checksum of data_mart relations (all by default).

    ``build_independent`` leaves out what BUILD_DEPENDENT lists, for comparing a daily build
    with a full refresh; ``ignore_columns`` (e.g. LINEAGE_COLUMNS) leaves those columns out
    of every relation.
    """
    ignored = set(ignore_columns)
    if names is None:
        names = [
            n for (n,) in rows(pg, "select table_name from information_schema.tables where table_schema = 'data_mart'")
        ]
    out = {}
    for name in names:
        skipped = BUILD_DEPENDENT.get(name, []) if build_independent else []
        if skipped is None:
            continue
        columns = [
            column
            for (column,) in rows(
                pg,
                "select column_name from information_schema.columns "
                "where table_schema = 'data_mart' and table_name = %s order by ordinal_position",
                (name,),
            )
            if column not in skipped and column not in ignored
        ]
        record = sql.SQL("row({})::text").format(sql.SQL(", ").join(sql.Identifier("t", c) for c in columns))
        query = sql.SQL(
            "select count(*)::text || ':' || coalesce(md5(string_agg(md5({record}), '' order by md5({record}))), '') "
            "from data_mart.{name} as t"
        ).format(record=record, name=sql.Identifier(name))
        out[name] = scalar(pg, query.as_string(pg))
    return out
