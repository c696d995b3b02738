"""Queries against the test database, and the reset that makes a test start from nothing."""

from __future__ import annotations

from collections.abc import Iterable

import psycopg2.extensions
from psycopg2 import sql

from pytests.support import testdb  # noqa: F401  (chooses the test database: see its docstring)

PROJECT_SCHEMAS = ("staging", "stg", "intermediate", "data_mart", "dbt", "snapshots", "ops")


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


def mart_checksums(pg: psycopg2.extensions.connection, names: Iterable[str] | None = None) -> dict[str, str]:
    """Row count and an order-independent checksum of data_mart relations (all by default)."""
    if names is None:
        names = [
            n for (n,) in rows(pg, "select table_name from information_schema.tables where table_schema = 'data_mart'")
        ]
    out = {}
    for name in names:
        query = sql.SQL(
            "select count(*)::text || ':' || coalesce(md5(string_agg(md5(t::text), '' order by md5(t::text))), '') "
            "from data_mart.{} as t"
        ).format(sql.Identifier(name))
        out[name] = scalar(pg, query.as_string(pg))
    return out
