"""The same marts on Apache Spark as on PostgreSQL, from the same model files, to the cent and the count.

The same input files land twice: through COPY into the PostgreSQL test
database and, through ``loaders.parquet_landing``, as Parquet into a landing
folder of the test's own. dbt builds the sales and customer marts (their data
tests included) on each engine: ``dev`` (PostgreSQL) and ``spark`` (a local
Spark inside dbt, its warehouse and metastore in the test's folder). Then
every row of each mart must be equal on both: every customer's RFM values,
scores and segment, every cohort cell, every ABC class and share, every
month's KPIs, every segment's share. Spark's tables are read from their
Parquet files in the warehouse, so no second Spark is started.

The bank marts are compared likewise on the generated bank sample, and the
event marts on the demo's event log.

Skips, with the reason, when Java, pyspark or dbt-spark is missing (install
them with ``python3 run.py setup --spark``). Slow: one dbt build per engine
and data set (the demo sample; the real UCI file when SEGMART_REAL_DATA or
``../shared/data`` holds it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import psycopg2.extensions
import pytest

# the Parquet landing needs requirements-spark.txt; without it this module skips, saying so
pq = pytest.importorskip(
    "pyarrow.parquet", reason="pyarrow is not installed: python3 run.py setup --spark installs requirements-spark.txt"
)

from loaders.formats import BANK_FORMATS, EVENT_FORMATS, SALES_FORMATS  # noqa: E402
from loaders.parquet_landing import land_files  # noqa: E402
from pytests.support.db import reset_database  # noqa: E402
from pytests.support.files import real_data_or_skip  # noqa: E402
from pytests.support.runs import run_cli, run_dbt  # noqa: E402
from segmart import db  # noqa: E402
from segmart.config import Connection  # noqa: E402
from segmart.pipeline import sample_files  # noqa: E402
from segmart.spark_build import missing_requirements  # noqa: E402

_MISSING = missing_requirements()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(_MISSING), reason="the Spark engine is not installed: " + "; ".join(_MISSING or ["-"])),
]

# mart -> the columns that identify one row
MARTS = {
    "customer_rfm": ("source_system", "customer_id"),
    "rfm_segment_summary": ("source_system", "rfm_segment"),
    "rfm_score_cut_points": ("source_system", "metric", "score"),
    "cohort_retention": ("source_system", "cohort_month", "months_since_first_purchase"),
    "abc_countries": ("source_system", "country"),
    "abc_products": ("source_system", "product_id"),
    "monthly_kpis": ("source_system", "month_start"),
}
# the bank marts, on the generated bank sample (the real file has no bank data)
BANK_MARTS = {
    "client_segments": ("client_id",),
    "client_product_usage": ("client_id", "product_name"),
    "client_cross_sell": ("client_id",),
    "product_popularity_by_segment": ("client_segment_code", "product_name"),
    "income_engagement": ("income_band_order", "usage_count"),
    "income_usage_correlation": ("as_of_date",),
    "bank_unknown_client_usage": ("usage_id",),
    "bank_reconciliation": ("entity", "row_status"),
}

# the event marts, on the demo's event log (the sample data set only); event_load_audit
# builds on both but holds each engine's load times, so it is not compared
EVENT_MARTS = {
    "event_key_figures": ("period_grain", "period_start_date"),
    "event_funnel": ("period_grain", "period_start_date", "funnel_category", "step_number"),
    "event_revenue_by_dimension": ("period_grain", "period_start_date", "dimension_name", "dimension_value"),
    "event_hourly_activity": ("activity_year", "weekday_number", "hour_of_day"),
    "event_value_anomalies": ("event_date", "slice_dimension", "slice_value"),
}

# Spark's stddev_samp is a double, PostgreSQL's an exact numeric: the deviation and z
# agree to the last place shown but one, rounded from different sides now and then
# (measured on the demo log: 1 z-score of ~8,000 differed by 0.0001); the flags must agree.
LAST_PLACE = {"event_value_anomalies": {"window_stddev": Decimal("0.01"), "z_score": Decimal("0.0001")}}


def _selection(marts: list[str]) -> tuple[str, ...]:
    return ("build", "--select", " ".join(f"+{mart}" for mart in marts), "--indirect-selection", "cautious")


Row = dict[str, object]


@dataclass
class Engines:
    pg: psycopg2.extensions.connection
    warehouse: Path
    files: list[Path]
    with_bank: bool
    with_events: bool = False


def _normal(value: object) -> object:
    """A value as both engines' drivers can give it: exact numbers, dates, text."""
    if isinstance(value, float):
        raise AssertionError(f"a mart holds a float ({value!r}): the comparison must be exact")
    if isinstance(value, Decimal):
        return value.normalize() if value == value.to_integral_value() else value
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return value


def _keyed(rows: list[Row], key: tuple[str, ...]) -> dict[tuple, Row]:
    keyed = {tuple(row[k] for k in key): {name: _normal(v) for name, v in row.items()} for row in rows}
    assert len(keyed) == len(rows), f"the key {key} is not unique"
    return keyed


def _pg_rows(pg: psycopg2.extensions.connection, mart: str) -> list[Row]:
    with pg.cursor() as cur:
        cur.execute(f"select * from data_mart.{mart}")
        names = [column.name for column in cur.description]
        return [dict(zip(names, values, strict=True)) for values in cur.fetchall()]


def _spark_rows(warehouse: Path, mart: str) -> list[Row]:
    return pq.read_table(warehouse / "data_mart.db" / mart).to_pylist()


def _build_both(
    connection_info: Connection, files: list[Path], bank_files: list[Path], event_files: list[Path], work: Path
) -> Engines:
    marts = [*MARTS, *(BANK_MARTS if bank_files else ()), *(("event_load_audit", *EVENT_MARTS) if event_files else ())]
    selection = _selection(marts)
    pg = db.connect(connection_info)
    reset_database(pg)
    run_cli("sales", *map(str, files), timeout=1800)
    if bank_files:
        run_cli("bank", *map(str, bank_files), timeout=600)
    if event_files:
        run_cli("events", *map(str, event_files), timeout=600)
    run_dbt(*selection, tmp_target=work / "postgres")
    landing, spark_dir = work / "landing", work / "spark"
    results = [
        *land_files(landing, files, SALES_FORMATS),
        *land_files(landing, bank_files, BANK_FORMATS),
        *land_files(landing, event_files, EVENT_FORMATS),
    ]
    assert [r.status for r in results] == ["loaded"] * len(results), [r.summary() for r in results]
    saved = {name: os.environ.get(name) for name in ("SEGMART_ENGINE", "SEGMART_LANDING_DIR", "SEGMART_SPARK_DIR")}
    os.environ.update(SEGMART_ENGINE="spark", SEGMART_LANDING_DIR=str(landing), SEGMART_SPARK_DIR=str(spark_dir))
    try:
        run_dbt(*selection, tmp_target=work / "spark-dbt", timeout=3600)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return Engines(pg, spark_dir / "warehouse", files, with_bank=bool(bank_files), with_events=bool(event_files))


@pytest.fixture(scope="module", params=["sample", "real"])
def engines(request: pytest.FixtureRequest, connection_info: Connection, tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp(f"spark-{request.param}")
    if request.param == "real":
        files, bank_files, event_files = [real_data_or_skip()], [], []
    else:
        demo = sample_files()
        files, bank_files, event_files = demo["sales"], demo["bank"], demo["events"]
    built = _build_both(connection_info, files, bank_files, event_files, work)
    yield built
    built.pg.close()


def _differences(postgres: dict[tuple, Row], spark: dict[tuple, Row], last_place: dict[str, Decimal]) -> list[str]:
    problems = [f"only on PostgreSQL: {key}" for key in postgres.keys() - spark.keys()]
    problems += [f"only on Spark: {key}" for key in spark.keys() - postgres.keys()]
    for key in sorted(postgres.keys() & spark.keys(), key=str):
        for column, value in postgres[key].items():
            if column not in spark[key]:
                problems.append(f"{key}: column {column} missing on Spark")
            elif column in last_place and value is not None and spark[key][column] is not None:
                if abs(spark[key][column] - value) > last_place[column]:
                    problems.append(f"{key} {column}: PostgreSQL {value!r}, Spark {spark[key][column]!r}")
            elif spark[key][column] != value:
                problems.append(f"{key} {column}: PostgreSQL {value!r}, Spark {spark[key][column]!r}")
    return problems


@pytest.mark.parametrize("mart", [*MARTS, *BANK_MARTS, *EVENT_MARTS])
def test_mart_is_the_same_on_both_engines(engines: Engines, mart: str) -> None:
    if mart in BANK_MARTS and not engines.with_bank:
        pytest.skip("this data set has no bank files")
    if mart in EVENT_MARTS and not engines.with_events:
        pytest.skip("this data set has no event log")
    key = MARTS.get(mart) or BANK_MARTS.get(mart) or EVENT_MARTS[mart]
    postgres = _keyed(_pg_rows(engines.pg, mart), key)
    spark = _keyed(_spark_rows(engines.warehouse, mart), key)
    assert postgres, f"{mart} is empty on PostgreSQL: nothing would be compared"
    problems = _differences(postgres, spark, LAST_PLACE.get(mart, {}))
    assert not problems, f"{mart}: {len(problems)} differences, first ones:\n" + "\n".join(problems[:20])


def test_every_customer_of_the_files_is_scored_on_spark(engines: Engines) -> None:
    """Not only equal: the Spark mart holds every customer the files name (independent of the marts)."""
    import csv
    import gzip

    expected: set[tuple[str, str]] = set()
    for path in engines.files:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as handle:
            reader = csv.DictReader(handle)
            if "CustomerID" not in (reader.fieldnames or []):
                continue
            for line in reader:
                customer = line["CustomerID"].strip()
                if customer and not line["InvoiceNo"].startswith(("C", "A")) and float(line["Quantity"]) > 0:
                    if Decimal(line["UnitPrice"]) > 0:
                        expected.add(("uci", str(int(float(customer)))))
    scored = {(row["source_system"], row["customer_id"]) for row in _spark_rows(engines.warehouse, "customer_rfm")}
    uci_scored = {item for item in scored if item[0] == "uci"}
    assert expected, "the files name no UCI customer: nothing would be checked"
    assert uci_scored == expected
    assert all(isinstance(row["as_of_date"], date) for row in _spark_rows(engines.warehouse, "customer_rfm"))
