"""Customer RFM marts end to end: generate a UCI file → load → dbt build, checked against Python.

The expected figures are recomputed from the CSV by the pandas reference
(``pytests/support/reference.py``): the line exclusion rules, documents, each
customer's recency, frequency and monetary, the rank-based scores (ties share
a score), the segment from the seed file, the monthly segment history and its
transitions. Then: an incremental run of the history after more loads equals
a full refresh.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from itertools import pairwise
from pathlib import Path

import pytest

from pytests.support.db import mart_checksums, rows, scalar
from pytests.support.files import correction_of, split_by_date
from pytests.support.project import rfm_segment_map
from pytests.support.reference import Marts, money
from pytests.support.runs import run_cli, run_dbt
from segmart.generate import generate_sales

pytestmark = pytest.mark.slow

SELECTION = ("+path:models/marts/customers",)
# only the tests of the selected models: eager selection would also pick the
# relationship tests of sales marts this selection does not build
BUILD_ARGS = ("build", "--select", *SELECTION, "--indirect-selection", "cautious")
CUSTOMER_MARTS = (
    "customer_rfm",
    "rfm_score_cut_points",
    "rfm_segment_summary",
    "customer_segment_history",
    "segment_transition_matrix",
)


def expected_rfm(marts: Marts, as_of: date | None = None) -> dict[str, tuple]:
    """customer_id -> (recency_days, frequency, monetary, r, f, m, segment), by the pandas reference."""
    return {
        row.customer_id: (
            int(row.recency_days),
            int(row.frequency),
            money(row.monetary),
            int(row.r_score),
            int(row.f_score),
            int(row.m_score),
            row.rfm_segment,
        )
        for row in marts.rfm(as_of).itertuples()
    }


@pytest.fixture(scope="module")
def uci_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rfm") / "uci.csv"
    generate_sales(path, fmt="uci", rows=20_000, customers=800, days=365, seed=3)
    return path


def test_customer_marts_match_python(clean_pg, uci_file: Path, dbt_dir: Path) -> None:
    pg = clean_pg
    run_cli("sales", str(uci_file))
    run_dbt(*BUILD_ARGS, tmp_target=dbt_dir)

    marts = Marts(uci_file)
    as_of = marts.as_of_date
    expected = expected_rfm(marts)
    assert len(expected) > 500

    # one row per customer with a purchase, and every figure, score and segment as in Python
    actual = {
        customer: (recency, frequency, monetary, r, f, m, segment)
        for customer, recency, frequency, monetary, r, f, m, segment, as_of_date, currency in rows(
            pg,
            "select customer_id, recency_days, frequency, monetary, r_score, f_score, m_score, rfm_segment,"
            " as_of_date, currency_code from data_mart.customer_rfm where source_system = 'uci'",
        )
        if as_of_date == as_of and currency == "GBP"
    }
    assert len(actual) == scalar(pg, "select count(*) from data_mart.customer_rfm")
    assert actual == expected

    # the test data really has ties and a single-order majority above 20 %
    single = [c for c, v in expected.items() if v[1] == 1]
    assert len(single) > 0.2 * len(expected)
    assert {expected[c][4] for c in single} == {1}
    # equal values, equal scores, in the mart itself
    for column, score in (("recency_days", "r_score"), ("frequency", "f_score"), ("monetary", "m_score")):
        split = scalar(
            pg,
            f"select count(*) from (select {column} from data_mart.customer_rfm"
            f" group by source_system, {column} having count(distinct {score}) > 1) as t",
        )
        assert split == 0, column
    assert max(Counter(v[2] for v in expected.values()).values()) > 1  # a tied monetary value exists

    # reconciliation: monetary + customers with returns only = all documents with a customer
    documents = marts.customer_documents()
    with_customer = money(documents["amount"].sum())
    rfm_total = scalar(pg, "select sum(monetary) from data_mart.customer_rfm")
    returns_only = money(documents.loc[~documents["customer_id"].isin(list(expected)), "amount"].sum())
    assert rfm_total + returns_only == with_customer

    # segment summary: counts per segment, shares add up to 1
    summary = dict(rows(pg, "select rfm_segment, customers from data_mart.rfm_segment_summary"))
    assert set(summary) == set(rfm_segment_map().values())  # every segment of the seed, even an empty one
    assert {s: n for s, n in summary.items() if n} == dict(Counter(v[6] for v in expected.values()))
    assert abs(scalar(pg, "select sum(share_of_customers) from data_mart.rfm_segment_summary") - 1) < 1e-12

    # the segment history at every month start, recomputed as of that date
    months = marts.history_as_of_dates()
    history: dict[date, dict[str, str]] = defaultdict(dict)
    for customer, as_of_date, segment in rows(
        pg, "select customer_id, as_of_date, rfm_segment from data_mart.customer_segment_history"
    ):
        history[as_of_date][customer] = segment
    assert sorted(history) == months
    expected_history = {month: {c: v[6] for c, v in expected_rfm(marts, month).items()} for month in months}
    assert history == expected_history

    # transitions: consecutive months, customers present in both
    moves: Counter[tuple[date, str, str]] = Counter()
    for earlier, later in pairwise(months):
        for customer, segment in expected_history[earlier].items():
            moves[earlier, segment, expected_history[later][customer]] += 1
    matrix = {
        (from_date, from_segment, to_segment): customers
        for from_date, from_segment, to_segment, customers in rows(
            pg,
            "select from_as_of_date, from_segment, to_segment, customers"
            " from data_mart.segment_transition_matrix where customers > 0",
        )
    }
    assert matrix == dict(moves)


def test_incremental_history_equals_full_refresh(clean_pg, uci_file: Path, dbt_dir: Path, tmp_path: Path) -> None:
    pg = clean_pg
    split_by_date(uci_file, "2011-09-15", tmp_path / "early.csv", tmp_path / "late.csv")
    run_cli("sales", str(tmp_path / "early.csv"))
    run_dbt(*BUILD_ARGS, tmp_target=dbt_dir)
    months_before = scalar(pg, "select count(distinct as_of_date) from data_mart.customer_segment_history")

    # new months, and corrected early invoices (a newer load supersedes them)
    history_before = rows(pg, "select customer_id, as_of_date, monetary from data_mart.customer_segment_history")
    correction_of(tmp_path / "early.csv", 40, tmp_path / "correction.csv")
    run_cli("sales", str(tmp_path / "late.csv"), str(tmp_path / "correction.csv"))
    run_dbt(*BUILD_ARGS, tmp_target=dbt_dir)
    assert scalar(pg, "select count(distinct as_of_date) from data_mart.customer_segment_history") > months_before
    history_after = rows(pg, "select customer_id, as_of_date, monetary from data_mart.customer_segment_history")
    assert set(history_before) - set(history_after)  # the correction changed earlier months
    incremental = mart_checksums(pg, CUSTOMER_MARTS)

    run_dbt(*BUILD_ARGS, "--full-refresh", tmp_target=dbt_dir)
    assert mart_checksums(pg, CUSTOMER_MARTS) == incremental

    # a rerun with nothing new rebuilds no month and changes nothing
    result = run_dbt("run", "--select", "customer_segment_history", tmp_target=dbt_dir)
    assert "INSERT 0 0" in result.stdout
    assert mart_checksums(pg, CUSTOMER_MARTS) == incremental
