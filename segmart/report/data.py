"""What the report shows, read from data_mart (and the load bookkeeping in staging).

Every block checks first that the tables and columns it needs exist, so marts
from an older build, or no build at all, give a clear "missing" message instead
of an error. All reads run in one read-only REPEATABLE READ transaction, so the
HTML and the lists describe the same snapshot.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg2.extensions

log = logging.getLogger("segmart.report")

Row = dict[str, Any]

# the columns each block reads; a block whose table or columns are missing is skipped with a message
NEEDS: dict[str, tuple[str, ...]] = {
    "sales_sources": ("source_system", "source_name", "source_name_ru", "currency_code"),
    "rfm_segments": (
        "rfm_segment",
        "segment_order",
        "segment_name_en",
        "segment_name_ru",
        "segment_description_en",
        "segment_description_ru",
        "recommended_action_en",
        "recommended_action_ru",
    ),
    "sales_lines": ("source_system", "order_date"),
    "sales_line_audit": ("source_system", "is_kept", "line_count", "source_staged_rows", "source_classified_rows"),
    "customer_rfm": (
        "source_system",
        "customer_id",
        "as_of_date",
        "first_purchase_date",
        "last_purchase_date",
        "recency_days",
        "frequency",
        "monetary",
        "r_score",
        "f_score",
        "m_score",
        "rfm_score",
        "rfm_segment",
    ),
    "monthly_kpis": (
        "source_system",
        "month_start",
        "is_complete_month",
        "revenue",
        "orders",
        "customers",
        "new_customers",
        "aov",
        "arpu",
        "arppu",
        "repeat_purchase_rate",
        "return_purchase_rate",
    ),
    "rfm_segment_summary": (
        "source_system",
        "rfm_segment",
        "customers",
        "share_of_customers",
        "revenue",
        "share_of_revenue",
    ),
    "segment_transition_matrix": (
        "source_system",
        "from_as_of_date",
        "to_as_of_date",
        "from_segment",
        "to_segment",
        "customers",
        "share_of_from_segment",
    ),
    "customer_segment_history": ("source_system", "customer_id", "as_of_date", "rfm_segment"),
    "cohort_retention": (
        "source_system",
        "cohort_month",
        "months_since_first_purchase",
        "is_observable",
        "cohort_size",
        "active_customers",
        "retention_rate",
    ),
    "lifecycle_summary": ("source_system", "month_start", "lifecycle_state", "lifecycle_state_order", "customers"),
    "abc_countries": (
        "source_system",
        "country",
        "revenue",
        "revenue_share",
        "cumulative_share",
        "revenue_rank",
        "abc_class",
    ),
    "abc_products": (
        "source_system",
        "product_id",
        "product_name",
        "revenue",
        "revenue_share",
        "cumulative_share",
        "revenue_rank",
        "abc_class",
    ),
    "order_anomalies": (
        "source_system",
        "order_id",
        "customer_id",
        "order_date",
        "net_amount",
        "window_mean",
        "z_score",
        "is_anomaly",
    ),
    "daily_revenue_anomalies": ("source_system", "order_date", "revenue", "window_mean", "z_score", "is_anomaly"),
    "bank_segments": (
        "segment_code",
        "segment_name",
        "segment_name_en",
        "segment_order",
        "marketing_action",
        "marketing_action_en",
    ),
    "bank_products": ("product_code", "product_name", "product_name_en"),
    "client_segments": ("client_id", "client_segment_code", "as_of_date"),
    "product_popularity_by_segment": (
        "client_segment_code",
        "product_name",
        "product_code",
        "segment_clients",
        "clients_using_product",
        "share_of_segment_clients",
        "popularity_rank",
    ),
    "client_cross_sell": (
        "client_id",
        "client_name",
        "usage_count",
        "client_segment_code",
        "reference_segment_code",
        "suggested_product_name",
        "suggested_product_code",
        "reference_segment_share",
        "has_suggestion",
        "suggestion_reason_code",
    ),
    "income_engagement": (
        "income_band_order",
        "income_band",
        "band_min_income",
        "band_max_income",
        "usage_count",
        "clients",
        "share_of_band_clients",
    ),
    "income_usage_correlation": ("clients_with_income", "pearson_correlation", "spearman_correlation"),
    "bank_reconciliation": ("entity", "row_count", "entity_staged_rows", "entity_accounted_rows"),
    "customer_clv": (
        "source_system",
        "customer_id",
        "rfm_segment",
        "probability_alive",
        "is_probably_gone",
        "expected_purchases_365d",
        "expected_average_spend",
        "customer_lifetime_value",
        "clv_horizon_months",
        "is_scored",
    ),
    "clv_model_fit": ("source_system", "fit_scope", "fit_status", "fit_message", "customers", "repeat_buyers"),
    "clv_holdout_check": (
        "source_system",
        "rfm_segment",
        "is_source_total",
        "holdout_as_of_date",
        "holdout_days",
        "customers",
        "predicted_purchases",
        "actual_purchases",
        "predicted_to_actual_ratio",
    ),
}

ANOMALY_ROWS = 10
TOP_PRODUCTS = 10
TOP_BANK_PRODUCTS = 3
TOP_CLV_CUSTOMERS = 10
COHORT_MONTHS = 24


class Missing(Exception):
    """A block cannot be shown: the named relation or columns are not in data_mart."""


@dataclass
class Catalog:
    """The data_mart (and staging) relations present, with their columns."""

    columns: dict[str, set[str]]

    @classmethod
    def read(cls, conn: psycopg2.extensions.connection) -> Catalog:
        with conn.cursor() as cur:
            cur.execute(
                """
                select table_schema, table_name, column_name from information_schema.columns
                where table_schema in ('data_mart', 'staging')
                """
            )
            columns: dict[str, set[str]] = {}
            for schema, table, column in cur.fetchall():
                key = table if schema == "data_mart" else f"{schema}.{table}"
                columns.setdefault(key, set()).add(column)
        return cls(columns)

    @property
    def has_mart(self) -> bool:
        return any("." not in name for name in self.columns)

    def require(self, *tables: str) -> None:
        for table in tables:
            present = self.columns.get(table)
            if present is None:
                raise Missing(f"data_mart.{table}")
            lacking = [c for c in NEEDS.get(table, ()) if c not in present]
            if lacking:
                raise Missing(f"data_mart.{table} ({', '.join(lacking)})")


def query(conn: psycopg2.extensions.connection, sql: str, params: tuple | dict = ()) -> list[Row]:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        names = [d.name for d in cur.description]
        return [dict(zip(names, values, strict=True)) for values in cur.fetchall()]


def one(conn: psycopg2.extensions.connection, sql: str, params: tuple | dict = ()) -> Row:
    found = query(conn, sql, params)
    return found[0] if found else {}


def begin_snapshot(conn: psycopg2.extensions.connection) -> None:
    """Start the read-only snapshot every read of one report run shares."""
    conn.rollback()
    with conn.cursor() as cur:
        cur.execute("set transaction isolation level repeatable read, read only")


@dataclass
class Block:
    """One part of a section: its rows, or why it is not there."""

    rows: list[Row] = field(default_factory=list)
    missing: str | None = None
    extra: Row = field(default_factory=dict)


def block(catalog: Catalog, tables: tuple[str, ...], load) -> Block:
    try:
        catalog.require(*tables)
    except Missing as exc:
        return Block(missing=str(exc))
    return load()


@dataclass
class SalesSource:
    source_system: str
    names: Row  # source_name (en), source_name_ru
    currency_code: str
    as_of_date: dt.date | None = None
    first_date: dt.date | None = None
    last_date: dt.date | None = None
    customers: int = 0
    blocks: dict[str, Block] = field(default_factory=dict)

    @property
    def has_data(self) -> bool:
        return self.customers > 0 or bool(self.blocks.get("kpis") and self.blocks["kpis"].rows)


@dataclass
class Bank:
    as_of_date: dt.date | None = None
    clients: int = 0
    blocks: dict[str, Block] = field(default_factory=dict)


@dataclass
class ReportData:
    built_at: dt.datetime
    has_mart: bool
    segments: list[Row]
    sources: list[SalesSource]
    bank: Bank | None
    problems: list[str]  # blocks missing across the report (older marts)
    reconciliation: list[Row]
    quarantine: Row
    failures: int
    stale: list[Row]

    @property
    def as_of_date(self) -> dt.date | None:
        dates = [s.as_of_date for s in self.sources if s.as_of_date] + (
            [self.bank.as_of_date] if self.bank and self.bank.as_of_date else []
        )
        return max(dates) if dates else None

    def segment(self, code: str) -> Row:
        for row in self.segments:
            if row["rfm_segment"] == code:
                return row
        raise KeyError(f"RFM segment {code!r} is not in the rfm_segments seed")


def _sales_source(conn: psycopg2.extensions.connection, catalog: Catalog, source: Row) -> SalesSource:
    sid = source["source_system"]
    out = SalesSource(sid, source, source["currency_code"])
    p = (sid,)
    if "customer_rfm" in catalog.columns:
        head = one(
            conn,
            (
                "select max(as_of_date) as as_of_date, count(*) as customers from "
                "data_mart.customer_rfm where source_system = %s"
            ),
            p,
        )
        out.as_of_date, out.customers = head.get("as_of_date"), head.get("customers", 0)
    if "sales_lines" in catalog.columns:
        span = one(
            conn,
            (
                "select min(order_date) as first, max(order_date) as last from "
                "data_mart.sales_lines where source_system = %s"
            ),
            p,
        )
        out.first_date, out.last_date = span.get("first"), span.get("last")

    def rows(sql: str, params: tuple = p) -> Block:
        return Block(rows=query(conn, sql, params))

    b = out.blocks
    b["kpis"] = block(
        catalog,
        ("monthly_kpis",),
        lambda: rows("select * from data_mart.monthly_kpis where source_system = %s order by month_start"),
    )
    b["segments"] = block(
        catalog,
        ("rfm_segment_summary", "rfm_segments"),
        lambda: rows(
            """
            select s.rfm_segment, s.customers, s.share_of_customers, s.revenue, s.share_of_revenue
            from data_mart.rfm_segment_summary as s
            inner join data_mart.rfm_segments as seg on s.rfm_segment = seg.rfm_segment
            where s.source_system = %s
            order by seg.segment_order
            """
        ),
    )

    def transitions() -> Block:
        last = one(
            conn,
            "select max(from_as_of_date) as d from data_mart.segment_transition_matrix where source_system = %s",
            p,
        ).get("d")
        if last is None:
            return Block()
        found = rows(
            """
            select from_as_of_date, to_as_of_date, from_segment, to_segment, customers, share_of_from_segment
            from data_mart.segment_transition_matrix
            where source_system = %s and from_as_of_date = %s
            """,
            (sid, last),
        )
        return found

    b["transitions"] = block(catalog, ("segment_transition_matrix",), transitions)
    b["history"] = block(
        catalog,
        ("customer_segment_history",),
        lambda: rows(
            """
            select as_of_date, rfm_segment, count(*) as customers
            from data_mart.customer_segment_history where source_system = %s
            group by as_of_date, rfm_segment order by as_of_date
            """
        ),
    )
    b["cohorts"] = block(
        catalog,
        ("cohort_retention",),
        lambda: rows(
            """
            select cohort_month, months_since_first_purchase, is_observable, cohort_size,
                active_customers, retention_rate
            from data_mart.cohort_retention
            where source_system = %s
                and cohort_month >= (
                    select max(cohort_month) from data_mart.cohort_retention where source_system = %s
                ) - make_interval(months => %s)
            order by cohort_month, months_since_first_purchase
            """,
            (sid, sid, COHORT_MONTHS - 1),
        ),
    )
    b["lifecycle"] = block(
        catalog,
        ("lifecycle_summary",),
        lambda: rows(
            """
            select month_start, lifecycle_state, lifecycle_state_order, customers
            from data_mart.lifecycle_summary where source_system = %s
            order by month_start, lifecycle_state_order
            """
        ),
    )
    b["abc_countries"] = block(
        catalog,
        ("abc_countries",),
        lambda: rows(
            """
            select country as item, revenue, revenue_share, cumulative_share, revenue_rank, abc_class
            from data_mart.abc_countries where source_system = %s order by revenue_rank
            """
        ),
    )
    b["abc_products"] = block(
        catalog,
        ("abc_products",),
        lambda: rows(
            """
            select product_id, coalesce(product_name, product_id) as item, revenue, revenue_share,
                cumulative_share, revenue_rank, abc_class
            from data_mart.abc_products where source_system = %s order by revenue_rank
            """
        ),
    )
    b["clusters"] = block(
        catalog,
        ("rfm_cluster_summary",),
        lambda: rows(
            """
            select cluster_id, cluster_label_en, cluster_label_ru, customers, share_of_customers, revenue,
                share_of_revenue, centroid_recency_days, centroid_frequency, centroid_monetary, main_rfm_segment
            from data_mart.rfm_cluster_summary where source_system = %s order by cluster_id
            """
        ),
    )
    b["elbow"] = block(
        catalog,
        ("rfm_cluster_elbow",),
        lambda: rows(
            """
            select k, within_cluster_sum_of_squares, silhouette, is_elbow_k
            from data_mart.rfm_cluster_elbow where source_system = %s order by k
            """
        ),
    )
    b["clv_segments"] = block(
        catalog,
        ("customer_clv", "rfm_segments"),
        lambda: rows(
            """
            select c.rfm_segment, count(*) as customers, count(*) filter (where c.is_scored) as scored,
                sum(c.customer_lifetime_value) as expected_revenue,
                sum(c.expected_purchases_365d) as expected_purchases,
                avg(case when c.is_probably_gone then 1.0 else 0.0 end) filter (where c.is_scored) as share_gone,
                avg(c.probability_alive) as mean_probability_alive, max(c.clv_horizon_months) as horizon_months
            from data_mart.customer_clv as c
            inner join data_mart.rfm_segments as seg on c.rfm_segment = seg.rfm_segment
            where c.source_system = %s
            group by c.rfm_segment, seg.segment_order
            order by seg.segment_order
            """
        ),
    )
    b["clv_top"] = block(
        catalog,
        ("customer_clv",),
        lambda: rows(
            """
            select customer_id, rfm_segment, probability_alive, expected_purchases_365d, expected_average_spend,
                customer_lifetime_value
            from data_mart.customer_clv
            where source_system = %s and customer_lifetime_value is not null
            order by customer_lifetime_value desc, customer_id limit %s
            """,
            (sid, TOP_CLV_CUSTOMERS),
        ),
    )
    b["clv_fit"] = block(
        catalog,
        ("clv_model_fit",),
        lambda: rows(
            """
            select fit_scope, fit_status, fit_message, customers, repeat_buyers
            from data_mart.clv_model_fit where source_system = %s order by fit_scope
            """
        ),
    )
    b["clv_holdout"] = block(
        catalog,
        ("clv_holdout_check",),
        lambda: rows(
            """
            select h.rfm_segment, h.is_source_total, h.holdout_as_of_date, h.holdout_days, h.customers,
                h.predicted_purchases, h.actual_purchases, h.predicted_to_actual_ratio
            from data_mart.clv_holdout_check as h
            left join data_mart.rfm_segments as seg on h.rfm_segment = seg.rfm_segment
            where h.source_system = %s
            order by h.is_source_total desc, seg.segment_order nulls last, h.rfm_segment
            """
        ),
    )
    b["order_anomalies"] = block(
        catalog,
        ("order_anomalies",),
        lambda: rows(
            """
            select order_date, order_id, customer_id, net_amount, window_mean, z_score
            from data_mart.order_anomalies where source_system = %s and is_anomaly
            order by order_date desc, abs(z_score) desc limit %s
            """,
            (sid, ANOMALY_ROWS),
        ),
    )
    b["day_anomalies"] = block(
        catalog,
        ("daily_revenue_anomalies",),
        lambda: rows(
            """
            select order_date, revenue, window_mean, z_score
            from data_mart.daily_revenue_anomalies where source_system = %s and is_anomaly
            order by order_date desc limit %s
            """,
            (sid, ANOMALY_ROWS),
        ),
    )
    return out


def _bank(conn: psycopg2.extensions.connection, catalog: Catalog) -> Bank:
    bank = Bank()
    try:
        catalog.require("client_segments", "bank_segments")
    except Missing as exc:
        bank.blocks["segments"] = Block(missing=str(exc))
        return bank
    head = one(conn, "select max(as_of_date) as as_of_date, count(*) as clients from data_mart.client_segments")
    bank.as_of_date, bank.clients = head["as_of_date"], head["clients"]
    b = bank.blocks
    b["segments"] = Block(
        rows=query(
            conn,
            """
            select s.segment_code, s.segment_name as segment_name_ru, s.segment_name_en, s.segment_order,
                s.marketing_action as marketing_action_ru, s.marketing_action_en,
                count(c.client_id) as clients
            from data_mart.bank_segments as s
            left join data_mart.client_segments as c on s.segment_code = c.client_segment_code
            group by s.segment_code, s.segment_name, s.segment_name_en, s.segment_order,
                s.marketing_action, s.marketing_action_en
            order by s.segment_order
            """,
        )
    )
    b["top_products"] = block(
        catalog,
        ("product_popularity_by_segment", "bank_products"),
        lambda: Block(
            rows=query(
                conn,
                """
                select p.client_segment_code, p.popularity_rank, p.clients_using_product,
                    p.share_of_segment_clients, p.segment_clients,
                    coalesce(bp.product_name, p.product_name) as product_name_ru,
                    coalesce(bp.product_name_en, p.product_name) as product_name_en
                from data_mart.product_popularity_by_segment as p
                left join data_mart.bank_products as bp on p.product_code = bp.product_code
                where p.popularity_rank <= %s and p.clients_using_product > 0
                order by p.client_segment_order, p.popularity_rank
                """,
                (TOP_BANK_PRODUCTS,),
            )
        ),
    )
    b["cross_sell"] = block(
        catalog,
        ("client_cross_sell", "bank_products"),
        lambda: Block(
            rows=query(
                conn,
                """
                select coalesce(bp.product_name, x.suggested_product_name) as product_name_ru,
                    coalesce(bp.product_name_en, x.suggested_product_name) as product_name_en,
                    count(*) as clients
                from data_mart.client_cross_sell as x
                left join data_mart.bank_products as bp on x.suggested_product_code = bp.product_code
                where x.has_suggestion
                group by 1, 2 order by clients desc, 2
                """,
            ),
            extra=one(
                conn,
                "select count(*) as clients, count(*) filter (where has_suggestion) as with_offer "
                "from data_mart.client_cross_sell",
            ),
        ),
    )
    b["income"] = block(
        catalog,
        ("income_engagement", "income_usage_correlation"),
        lambda: Block(
            rows=query(
                conn,
                """
                select income_band_order, income_band, band_min_income, band_max_income, usage_count,
                    clients, share_of_band_clients
                from data_mart.income_engagement order by income_band_order, usage_count
                """,
            ),
            extra=one(conn, "select * from data_mart.income_usage_correlation"),
        ),
    )
    return bank


def _warnings(conn: psycopg2.extensions.connection, catalog: Catalog, stale_days: int) -> tuple[Row, int, list[Row]]:
    quarantine: Row = {}
    failures = 0
    stale: list[Row] = []
    if "staging.load_quarantine" in catalog.columns:
        quarantine = one(conn, "select count(*) as rows, count(distinct load_id) as files from staging.load_quarantine")
    if "staging.load_failures" in catalog.columns:
        failures = one(
            conn,
            "select count(*) as n from staging.load_failures where failed_at > now() - make_interval(days => %s)",
            (stale_days,),
        )["n"]
    if "staging.load_batches" in catalog.columns:
        stale = query(
            conn,
            """
            select source_format, max(loaded_at) as last_loaded_at,
                extract(day from now() - max(loaded_at))::integer as days
            from staging.load_batches group by source_format
            having max(loaded_at) < now() - make_interval(days => %s)
            order by source_format
            """,
            (stale_days,),
        )
    return quarantine, failures, stale


def _reconciliation(conn: psycopg2.extensions.connection, catalog: Catalog) -> list[Row]:
    out: list[Row] = []
    if "sales_line_audit" in catalog.columns:
        out += query(
            conn,
            """
            select source_system as source, max(source_staged_rows) as staged,
                max(source_classified_rows) as accounted,
                coalesce(sum(line_count) filter (where is_kept), 0) as kept
            from data_mart.sales_line_audit group by source_system order by source_system
            """,
        )
    if "bank_reconciliation" in catalog.columns:
        out += query(
            conn,
            """
            select 'bank ' || entity as source, max(entity_staged_rows) as staged,
                max(entity_accounted_rows) as accounted,
                coalesce(sum(row_count) filter (where row_status = 'in_marts'), 0) as kept
            from data_mart.bank_reconciliation group by entity order by entity
            """,
        )
    return out


def read_report_data(conn: psycopg2.extensions.connection, *, stale_days: int = 7) -> ReportData:
    """Everything the HTML report shows (aggregates and top-N lists only)."""
    catalog = Catalog.read(conn)
    built_at = dt.datetime.now().astimezone()
    problems: list[str] = []
    segments: list[Row] = []
    sources: list[SalesSource] = []
    bank: Bank | None = None
    if catalog.has_mart:
        try:
            catalog.require("sales_sources", "rfm_segments")
            segments = query(conn, "select * from data_mart.rfm_segments order by segment_order")
            for source in query(conn, "select * from data_mart.sales_sources order by source_system desc"):
                sources.append(_sales_source(conn, catalog, source))
        except Missing as exc:
            problems.append(str(exc))
        bank = _bank(conn, catalog)
    quarantine, failures, stale = _warnings(conn, catalog, stale_days)
    return ReportData(
        built_at=built_at,
        has_mart=catalog.has_mart,
        segments=segments,
        sources=sources,
        bank=bank,
        problems=problems,
        reconciliation=_reconciliation(conn, catalog),
        quarantine=quarantine,
        failures=failures,
        stale=stale,
    )


# --- the customer lists (streamed, any size) ---------------------------------------------------


def previous_history_date(
    conn: psycopg2.extensions.connection, catalog: Catalog, source: str, as_of: dt.date
) -> dt.date | None:
    """The newest monthly segment snapshot before the current as-of date ("segment last month")."""
    if "customer_segment_history" not in catalog.columns:
        return None
    return one(
        conn,
        (
            "select max(as_of_date) as d from data_mart.customer_segment_history where "
            "source_system = %s and as_of_date < %s"
        ),
        (source, as_of),
    ).get("d")


_CUSTOMERS = """
    select c.rfm_segment, c.customer_id, c.recency_days, c.frequency, c.monetary,
        c.r_score, c.f_score, c.m_score, c.rfm_score, c.first_purchase_date, c.last_purchase_date,
        {previous} as previous_segment, {clv}
    from data_mart.customer_rfm as c
    inner join data_mart.rfm_segments as seg on c.rfm_segment = seg.rfm_segment
    {join}
    where c.source_system = %(source)s
    order by seg.segment_order, c.monetary desc, c.customer_id
"""
HISTORY_JOIN = """left join data_mart.customer_segment_history as h
        on h.source_system = c.source_system and h.customer_id = c.customer_id and h.as_of_date = %(previous)s"""
CLV_JOIN = """left join data_mart.customer_clv as v
        on v.source_system = c.source_system and v.customer_id = c.customer_id"""


def customers_sql(*, history: bool, clv: bool) -> str:
    """The list query; without customer_clv (older marts) its three columns are null."""
    return _CUSTOMERS.format(
        previous="h.rfm_segment" if history else "null::text",
        clv="v.probability_alive, v.expected_purchases_365d, v.customer_lifetime_value"
        if clv
        else "null::numeric, null::numeric, null::numeric",
        join=" ".join(([HISTORY_JOIN] if history else []) + ([CLV_JOIN] if clv else [])),
    )


def stream_customers(
    conn: psycopg2.extensions.connection,
    source: str,
    previous: dt.date | None,
    *,
    clv: bool = False,
    batch: int = 20_000,
) -> Iterator[tuple]:
    """customer_rfm of one source, segment by segment (seed order), best customers first.

    Yields (rfm_segment, customer_id, recency_days, frequency, monetary, r, f, m, rfm_score,
    first_purchase_date, last_purchase_date, previous_segment, probability_alive,
    expected_purchases_365d, customer_lifetime_value) through a server-side cursor, so a
    million customers never sit in memory. ``clv``: customer_clv exists (else the last three are null).
    """
    sql = customers_sql(history=previous is not None, clv=clv)
    with conn.cursor(name="segmart_report_customers") as cur:
        cur.itersize = batch
        cur.execute(sql, {"source": source, "previous": previous})
        yield from cur


def stream_cross_sell(conn: psycopg2.extensions.connection, *, batch: int = 20_000) -> Iterator[tuple]:
    """client_cross_sell with seed texts in both languages, by segment and client id.

    Yields (client_id, client_name, segment_name_en, segment_name_ru, usage_count,
    product_name_en, product_name_ru, reason_code, reference_share, reference_segment_en,
    reference_segment_ru, marketing_action_en, marketing_action_ru).
    """
    sql = """
        select x.client_id, x.client_name, s.segment_name_en, s.segment_name, x.usage_count,
            coalesce(bp.product_name_en, x.suggested_product_name),
            coalesce(bp.product_name, x.suggested_product_name),
            x.suggestion_reason_code, x.reference_segment_share,
            rs.segment_name_en, rs.segment_name, s.marketing_action_en, s.marketing_action
        from data_mart.client_cross_sell as x
        inner join data_mart.bank_segments as s on x.client_segment_code = s.segment_code
        left join data_mart.bank_segments as rs on x.reference_segment_code = rs.segment_code
        left join data_mart.bank_products as bp on x.suggested_product_code = bp.product_code
        order by s.segment_order, x.client_id
    """
    with conn.cursor(name="segmart_report_cross_sell") as cur:
        cur.itersize = batch
        cur.execute(sql)
        yield from cur
