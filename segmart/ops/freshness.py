"""Freshness per kind of export (dbt source freshness on ``load_batches.loaded_at``)
and the anomalies of the latest day, for the run's summary."""

from __future__ import annotations

import json
import logging

import psycopg2
import psycopg2.extensions

from segmart.ops import locks

log = logging.getLogger("segmart")

SELECTION = "source:landing"


def landed_sources(pg: psycopg2.extensions.connection) -> list[str]:
    """The landing sources (``sales_loads``, ``bank_loads``) that have at least one load.

    Only those are checked: a kind of export that never landed has no age, and
    dbt would call it stale while nothing is late (a sales-only user has no bank).
    """
    from segmart.ops.inbox import FORMATS

    with pg.cursor() as cur:
        cur.execute("select to_regclass('staging.load_batches') is not null")
        if not cur.fetchone()[0]:
            pg.rollback()
            return []
        cur.execute("select distinct target from staging.load_batches")
        targets = {target for (target,) in cur.fetchall()}
    pg.rollback()
    return [f"{kind}_loads" for kind, formats in FORMATS.items() if targets & {fmt.target for fmt in formats}]


def stale_sources(pg: psycopg2.extensions.connection, *, lock_timeout: float) -> list[str]:
    """Run ``dbt source freshness`` for the landed sources; one line per source past its warning age."""
    landed = landed_sources(pg)
    if not landed:
        log.info("freshness: nothing has landed yet, so nothing can be late")
        return []
    selection = " ".join(f"{SELECTION}.{name}" for name in landed)
    code = locks.run_dbt(["source", "freshness", "--select", selection], lock_timeout=lock_timeout)
    path = locks.target_path() / "sources.json"
    try:
        results = json.loads(path.read_text(encoding="utf-8"))["results"]
    except (OSError, ValueError, KeyError) as exc:
        log.warning("source freshness could not be checked (dbt exit %d, %s: %s)", code, path.name, exc)
        return []
    stale = []
    for result in results:
        name = result["unique_id"].rsplit(".", 1)[-1].removesuffix("_loads")
        if str(result.get("max_loaded_at") or "").startswith("0001-"):
            log.debug("freshness of %s: nothing of that kind has landed", name)
        elif result.get("status") in {"warn", "error"}:
            hours = (result.get("max_loaded_at_time_ago_in_s") or 0) / 3600
            stale.append(f"{name}: no new load for {hours:.0f} h (last {str(result.get('max_loaded_at'))[:19]})")
        elif result.get("status") == "runtime error":
            log.debug("freshness of %s not known: %s", name, result.get("error"))
    for line in stale:
        log.warning("stale source: %s", line)
    return stale


def latest_day_anomalies(pg: psycopg2.extensions.connection) -> list[str]:
    """The revenue anomalies of each source's latest day in ``daily_revenue_anomalies``."""
    query = """
        with latest as (
            select source_system, max(order_date) as order_date
            from data_mart.daily_revenue_anomalies group by source_system
        )
        select a.source_system, a.order_date, a.revenue, a.z_score
        from data_mart.daily_revenue_anomalies as a
        inner join latest as l on l.source_system = a.source_system and l.order_date = a.order_date
        where a.is_anomaly
        order by a.source_system
    """
    try:
        with pg.cursor() as cur:
            cur.execute(query)
            rows = cur.fetchall()
        pg.rollback()
    except psycopg2.Error as exc:
        pg.rollback()
        log.warning("anomalies of the latest day not known: %s", str(exc).strip().splitlines()[0])
        return []
    return [f"{source} {day}: revenue {revenue:,.2f} (z = {z:.1f})" for source, day, revenue, z in rows]
