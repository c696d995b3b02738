"""Customer RFM marts end to end: generate a UCI file → load → dbt build, checked against Python.

The expected figures are recomputed from the CSV with plain Python: the line
exclusion rules, documents, each customer's recency, frequency and monetary,
the rank-based scores (ties share a score), the segment from the seed file,
the monthly segment history and its transitions. Then: an incremental run of
the history after more loads equals a full refresh.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest

from pytests.conftest import ROOT, rows, run_cli, run_dbt, scalar
from pytests.helpers import correction_of, mart_checksums, split_by_date
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


@dataclass
class Document:
    customer_id: str | None
    order_date: date
    net_amount: Decimal
    is_return: bool


def read_documents(path: Path) -> dict[str, Document]:
    """Kept UCI documents of one file, by the cleaned layer's rules."""
    documents: dict[str, Document] = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            invoice = row["InvoiceNo"].strip()
            quantity = int(row["Quantity"])
            amount = quantity * Decimal(row["UnitPrice"])
            is_return = invoice.startswith("C")
            if (
                invoice.startswith("A")
                or quantity == 0
                or (amount <= 0 and not is_return)
                or (amount >= 0 and is_return)
            ):
                continue
            customer = str(int(float(row["CustomerID"]))) if row["CustomerID"].strip() else None
            ordered = datetime.fromisoformat(row["InvoiceDate"].strip()).date()
            doc = documents.get(invoice)
            if doc is None:
                documents[invoice] = Document(customer, ordered, amount, is_return)
            else:
                doc.net_amount += amount
                doc.order_date = min(doc.order_date, ordered)
                doc.customer_id = max(filter(None, (doc.customer_id, customer)), default=None)
    return documents


def rfm_values(documents: dict[str, Document], as_of: date) -> dict[str, tuple[int, int, Decimal, date]]:
    """(recency_days, frequency, monetary, first purchase) per customer with a purchase before `as_of`."""
    frequency: Counter[str] = Counter()
    monetary: dict[str, Decimal] = defaultdict(Decimal)
    first: dict[str, date] = {}
    last: dict[str, date] = {}
    for doc in documents.values():
        if doc.customer_id is None or doc.order_date >= as_of:
            continue
        monetary[doc.customer_id] += doc.net_amount
        if not doc.is_return:
            frequency[doc.customer_id] += 1
            first[doc.customer_id] = min(first.get(doc.customer_id, doc.order_date), doc.order_date)
            last[doc.customer_id] = max(last.get(doc.customer_id, doc.order_date), doc.order_date)
    return {c: ((as_of - last[c]).days, frequency[c], monetary[c], first[c]) for c in frequency}


def scores(values: dict[str, Decimal | int], higher_is_better: bool = True) -> dict[str, int]:
    """1 + floor(5 * (rank - 1) / n), rank = 1 + the number of strictly worse values."""
    ordered = sorted(values.values(), reverse=not higher_is_better)
    rank: dict[Decimal | int, int] = {}
    for position, value in enumerate(ordered, start=1):
        rank.setdefault(value, position)
    n = len(values)
    return {key: 1 + (5 * (rank[value] - 1)) // n for key, value in values.items()}


def segment_map() -> dict[str, str]:
    with (ROOT / "seeds" / "rfm_segment_map.csv").open(newline="", encoding="utf-8") as handle:
        return {row["rfm_score"]: row["rfm_segment"] for row in csv.DictReader(handle)}


def expected_rfm(documents: dict[str, Document], as_of: date) -> dict[str, tuple]:
    """customer_id -> (recency_days, frequency, monetary, r, f, m, segment)."""
    values = rfm_values(documents, as_of)
    r = scores({c: v[0] for c, v in values.items()}, higher_is_better=False)
    f = scores({c: v[1] for c, v in values.items()})
    m = scores({c: v[2] for c, v in values.items()})
    segments = segment_map()
    return {c: (*values[c][:3], r[c], f[c], m[c], segments[f"{r[c]}{f[c]}{m[c]}"]) for c in values}


def month_starts_after(first: date, last: date) -> list[date]:
    """The first day of every month after `first`, up to `last`."""
    out = []
    month = (first.replace(day=1) + timedelta(days=32)).replace(day=1)
    while month <= last:
        out.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return out


@pytest.fixture(scope="module")
def uci_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rfm") / "uci.csv"
    generate_sales(path, fmt="uci", rows=20_000, customers=800, days=365, seed=3)
    return path


def test_customer_marts_match_python(clean_pg, uci_file: Path, dbt_dir: Path) -> None:
    pg = clean_pg
    run_cli("sales", str(uci_file))
    run_dbt(*BUILD_ARGS, tmp_target=dbt_dir)

    documents = read_documents(uci_file)
    as_of = max(doc.order_date for doc in documents.values()) + timedelta(days=1)
    expected = expected_rfm(documents, as_of)
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
    with_customer = sum(d.net_amount for d in documents.values() if d.customer_id)
    rfm_total = scalar(pg, "select sum(monetary) from data_mart.customer_rfm")
    returns_only = sum(d.net_amount for d in documents.values() if d.customer_id and d.customer_id not in expected)
    assert rfm_total + returns_only == with_customer

    # segment summary: counts per segment, shares add up to 1
    summary = dict(rows(pg, "select rfm_segment, customers from data_mart.rfm_segment_summary"))
    assert len(summary) == 11
    assert {s: n for s, n in summary.items() if n} == dict(Counter(v[6] for v in expected.values()))
    assert abs(scalar(pg, "select sum(share_of_customers) from data_mart.rfm_segment_summary") - 1) < 1e-12

    # the segment history at every month start, recomputed as of that date
    first_purchase = min(d.order_date for d in documents.values() if d.customer_id and not d.is_return)
    months = month_starts_after(first_purchase, as_of)
    history: dict[date, dict[str, str]] = defaultdict(dict)
    for customer, as_of_date, segment in rows(
        pg, "select customer_id, as_of_date, rfm_segment from data_mart.customer_segment_history"
    ):
        history[as_of_date][customer] = segment
    assert sorted(history) == months
    expected_history = {month: {c: v[6] for c, v in expected_rfm(documents, month).items()} for month in months}
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
