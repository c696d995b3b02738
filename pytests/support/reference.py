"""The business rules of the marts, recomputed in plain pandas from one UCI Online Retail CSV.

The one reference implementation of the rules documented in the dbt models'
YAML (``models/marts/sales``, ``models/marts/customers``): the cross-check
tests (``test_cross_check``, ``test_sales_marts``, ``test_customer_marts``)
compare the marts with it, and ``bench/pandas_marts.py`` times it as the
pandas alternative to dbt. It reads one UCI file (CSV or .gz) in chunks,
keeping only per-chunk aggregates, so memory stays bounded by the number of
invoices, not lines. Parameters come from the project: the ABC cut-offs and
the as-of date from the vars of ``dbt_project.yml``, the non-product codes and
the RFM segments from the seeds.

Rules (one file, one load: the "newest load of a document wins" rule is moot):

* a line is left out when its invoice starts with ``A`` (bad-debt adjustment),
  its quantity is 0, it is a sale (invoice not starting with ``C``) with an
  amount <= 0, or a return/cancellation (``C…``) with an amount >= 0;
* stock codes are trimmed and upper-cased; the codes of
  ``seeds/sales_non_product_codes.csv`` are not products (they count in revenue
  and countries, not in the product ABC);
* a document is an invoice; it is issued at the earliest time of its kept
  lines and names the greatest customer id (as text) of its kept lines, if
  any; an *order* is a kept document that is not a return; a customer's
  *purchase* is an order of theirs; amounts are exact (integers of 10^-6 GBP).

Marts: customers with a purchase, total revenue, revenue and orders per month,
cohort sizes and active customers per cohort × months since the first purchase
(cells of the partial as-of month are unobservable: NULL), ABC classes of
countries and products (rank by revenue desc, ties by id; A while the share of
the items ranked above is < ``abc_a_cutoff``, B while < ``abc_b_cutoff``, else
C; revenue <= 0 is C; shares of the total positive revenue), RFM values,
1–5 scores (rank-based, ties share a score, recency inverted) and segment of
every customer as of any date (by default the ``as_of_date`` var, or the day
after the last kept document), and the monthly as-of dates of the segment
history.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd

from pytests.support.project import non_product_codes, project_var, rfm_segment_map

SCALE = 1_000_000  # amounts are integers of 10^-6 currency units: every sum is exact
COLUMNS = ["InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"]
DTYPES = {
    "InvoiceNo": "category",
    "StockCode": "category",
    "Quantity": "int64",
    "InvoiceDate": "category",
    "UnitPrice": "float64",
    "CustomerID": "float64",
    "Country": "category",
}
NO_CUSTOMER = -1
RFM_BUCKETS = 5

log = logging.getLogger(__name__)


def money(micros: int) -> Decimal:
    """An exact Decimal of an amount in 10^-6 units."""
    return Decimal(int(micros)).scaleb(-6)


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def months_between(first: date, second: date) -> int:
    return (second.year - first.year) * 12 + second.month - first.month


@dataclass
class Aggregates:
    """What the chunked pass keeps: raw-file facts and exact partial sums."""

    raw_rows: int = 0
    kept_lines: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    raw_customers: set[int] = field(default_factory=set)
    documents: pd.DataFrame | None = None  # invoice × customer: amount, first time, lines
    countries: pd.Series | None = None  # country → amount
    products: pd.Series | None = None  # product id → amount


def _categories(series: pd.Series, normalise) -> tuple[np.ndarray, np.ndarray]:
    """(normalised categories, per-row codes) of a categorical column; a missing value is the last category, None."""
    categories = normalise(pd.Series(series.cat.categories.astype(str))).to_numpy(dtype=object)
    codes = series.cat.codes.to_numpy().astype(np.int64)
    missing = codes < 0
    if missing.any():
        categories = np.append(categories, None)
        codes[missing] = len(categories) - 1
    return categories, codes


def _blank_is_missing(values: pd.Series) -> pd.Series:
    stripped = values.str.strip()
    return stripped.mask(stripped == "")


def _chunk_aggregates(chunk: pd.DataFrame, non_products: set[str], agg: Aggregates) -> list[pd.DataFrame]:
    agg.raw_rows += len(chunk)
    customer = chunk["CustomerID"].to_numpy()
    has_customer = ~np.isnan(customer)
    customer_int = np.where(has_customer, customer, NO_CUSTOMER)
    if not np.array_equal(customer_int, np.round(customer_int)):
        raise ValueError("a CustomerID is not a whole number")
    customer_int = customer_int.astype(np.int64)
    agg.raw_customers.update(np.unique(customer_int[has_customer]).tolist())

    invoices, invoice_codes = _categories(chunk["InvoiceNo"], lambda s: s.str.strip())
    first_letter = pd.Series(invoices).str[:1].to_numpy(dtype=object)
    is_return = (first_letter == "C")[invoice_codes]
    is_adjustment = (first_letter == "A")[invoice_codes]

    price = chunk["UnitPrice"].to_numpy()
    price_micros = np.rint(price * SCALE)
    if np.abs(price * SCALE - price_micros).max(initial=0) > 1e-3:
        raise ValueError("a UnitPrice has more than 6 decimals")
    quantity = chunk["Quantity"].to_numpy()
    amount = quantity * price_micros.astype(np.int64)

    zero_quantity = ~is_adjustment & (quantity == 0)
    bad_sale = ~is_adjustment & ~zero_quantity & ~is_return & (amount <= 0)
    bad_return = ~is_adjustment & ~zero_quantity & is_return & (amount >= 0)
    for reason, mask in (
        ("bad_debt_adjustment", is_adjustment),
        ("zero_quantity", zero_quantity),
        ("non_positive_amount", bad_sale),
        ("non_negative_return", bad_return),
    ):
        agg.excluded[reason] = agg.excluded.get(reason, 0) + int(mask.sum())
    kept = ~(is_adjustment | zero_quantity | bad_sale | bad_return)
    agg.kept_lines += int(kept.sum())

    stamps, stamp_codes = _categories(chunk["InvoiceDate"], lambda s: s.str.strip())
    ordered_at = pd.to_datetime(pd.Series(stamps), format="%Y-%m-%d %H:%M:%S").to_numpy()[stamp_codes]
    products, product_codes = _categories(chunk["StockCode"], lambda s: s.str.strip().str.upper())
    countries, country_codes = _categories(chunk["Country"], _blank_is_missing)

    lines = pd.DataFrame(
        {
            "invoice": invoices[invoice_codes[kept]],
            "customer_id": customer_int[kept],
            "ordered_at": ordered_at[kept],
            "amount": amount[kept],
            "product_id": products[product_codes[kept]],
            "country": countries[country_codes[kept]],
        }
    )
    documents = lines.groupby(["invoice", "customer_id"], sort=False).agg(
        amount=("amount", "sum"), ordered_at=("ordered_at", "min"), lines=("amount", "size")
    )
    by_country = lines.groupby("country", sort=False, dropna=False)["amount"].sum()
    is_product = ~lines["product_id"].isin(non_products)
    by_product = lines[is_product].groupby("product_id", sort=False)["amount"].sum()
    return [documents, by_country.to_frame(), by_product.to_frame()]


def aggregate_file(path: Path, chunk_rows: int = 1_000_000) -> Aggregates:
    """One chunked pass over the file: exact partial aggregates of the kept lines."""
    non_products = non_product_codes()
    agg = Aggregates()
    parts: list[list[pd.DataFrame]] = [[], [], []]
    reader = pd.read_csv(
        path,
        usecols=COLUMNS,
        dtype=DTYPES,
        chunksize=chunk_rows,
        keep_default_na=False,
        na_values={"CustomerID": [""]},
        encoding="utf-8-sig",
    )
    with reader:
        for chunk in reader:
            for bucket, frame in zip(parts, _chunk_aggregates(chunk, non_products, agg), strict=True):
                bucket.append(frame)
            log.debug("read %s rows", f"{agg.raw_rows:,}")
    documents = pd.concat(parts[0])
    agg.documents = documents.groupby(level=["invoice", "customer_id"]).agg(
        amount=("amount", "sum"), ordered_at=("ordered_at", "min"), lines=("lines", "sum")
    )
    agg.countries = pd.concat(parts[1]).groupby(level=0, dropna=False)["amount"].sum()
    agg.products = pd.concat(parts[2]).groupby(level=0)["amount"].sum()
    return agg


def _fraction(value: object) -> Fraction:
    """A var as an exact fraction: 0.8 in YAML is the decimal 0.8, not the nearest binary float."""
    return Fraction(str(value))


def _as_of_var() -> date | None:
    value = project_var("as_of_date")
    return None if value is None else date.fromisoformat(str(value))


class Marts:
    """The marts of one UCI file; every method returns a fresh frame (amounts in 10^-6 units)."""

    def __init__(self, path: Path, chunk_rows: int = 1_000_000) -> None:
        self.path = Path(path)
        self.agg = aggregate_file(self.path, chunk_rows)
        self.a_cutoff = _fraction(project_var("abc_a_cutoff"))
        self.b_cutoff = _fraction(project_var("abc_b_cutoff"))
        self.history_months: int | None = project_var("rfm_history_months")
        self.segments = rfm_segment_map()
        pairs = self.agg.documents.reset_index()
        pairs["is_return"] = pairs["invoice"].str.startswith("C")
        # a document is issued once: at the earliest time of its kept lines, whoever they name
        issued = pairs.groupby("invoice")["ordered_at"].transform("min")
        pairs["order_date"] = issued.dt.normalize()
        # ... and names one customer: the greatest id, as text, of its kept lines (max() in SQL)
        pairs["customer"] = pairs["customer_id"].astype(str).where(pairs["customer_id"] != NO_CUSTOMER)
        self.pairs = pairs  # one row per invoice × customer (NO_CUSTOMER for guest lines)
        invoices = pairs.groupby("invoice").agg(
            amount=("amount", "sum"),
            order_date=("order_date", "first"),
            is_return=("is_return", "first"),
            customers=("customer_id", "nunique"),
            customer_id=("customer", "max"),
        )
        self.invoices = invoices  # one row per kept document
        last_day = self.invoices["order_date"].max().date()
        self.as_of_date = _as_of_var() or last_day + timedelta(days=1)
        as_of_month = month_start(self.as_of_date - timedelta(days=1))
        complete = add_months(as_of_month, 1) == self.as_of_date
        self.as_of_month = as_of_month
        self.last_observable_month = as_of_month if complete else add_months(as_of_month, -1)

    # ----------------------------------------------------------------- facts

    def facts(self) -> dict[str, object]:
        customer_docs = self.customer_documents()
        return {
            "raw_rows": self.agg.raw_rows,
            "raw_distinct_customers": len(self.agg.raw_customers),
            "kept_lines": self.agg.kept_lines,
            "excluded": dict(self.agg.excluded),
            "documents": len(self.invoices),
            "documents_with_several_customers": int((self.invoices["customers"] > 1).sum()),
            "customers_with_documents": customer_docs["customer_id"].nunique(),
            "customers": self.customer_count(),
            "as_of_date": self.as_of_date,
        }

    def customer_documents(self, as_of: date | None = None) -> pd.DataFrame:
        """Kept documents naming a customer, dated before `as_of` (default: the as-of date).

        Columns: invoice (index), customer_id (text), order_date, amount (10^-6), is_return.
        """
        as_of = as_of or self.as_of_date
        docs = self.invoices[self.invoices["customer_id"].notna()]
        return docs[docs["order_date"].dt.date < as_of]

    def customer_count(self) -> int:
        docs = self.customer_documents()
        return int(docs.loc[~docs["is_return"], "customer_id"].nunique())

    def total_revenue(self) -> Decimal:
        return money(self.invoices["amount"].sum())

    # ----------------------------------------------------------------- monthly

    def monthly(self) -> pd.DataFrame:
        """month_start, revenue (10^-6), orders: every kept document, guests included; months with one."""
        invoices = self.invoices.assign(month_start=self.invoices["order_date"].dt.to_period("M").dt.start_time)
        invoices["is_order"] = ~invoices["is_return"]
        grouped = invoices.groupby("month_start")
        out = pd.DataFrame({"revenue": grouped["amount"].sum(), "orders": grouped["is_order"].sum()}).reset_index()
        out["month_start"] = out["month_start"].dt.date
        return out.sort_values("month_start", ignore_index=True)

    # ----------------------------------------------------------------- cohorts

    def first_purchases(self) -> pd.Series:
        docs = self.customer_documents()
        return docs[~docs["is_return"]].groupby("customer_id")["order_date"].min()

    def cohorts(self) -> pd.DataFrame:
        """cohort_month, months_since_first_purchase, month_start, is_observable, cohort_size, active_customers."""
        first = self.first_purchases().dt.to_period("M")
        docs = self.customer_documents()
        purchases = docs[~docs["is_return"]]
        active = pd.DataFrame(
            {"customer_id": purchases["customer_id"], "month": purchases["order_date"].dt.to_period("M")}
        ).drop_duplicates()
        active["cohort"] = active["customer_id"].map(first)
        active["offset"] = (active["month"] - active["cohort"]).map(lambda offset: offset.n)
        active_cells = active.groupby(["cohort", "offset"]).size()
        sizes = first.value_counts()
        rows = []
        for cohort, size in sorted(sizes.items()):
            cohort_month = cohort.start_time.date()
            for offset in range(months_between(cohort_month, self.as_of_month) + 1):
                cell_month = add_months(cohort_month, offset)
                observable = cell_month <= self.last_observable_month
                rows.append(
                    (
                        cohort_month,
                        offset,
                        cell_month,
                        observable,
                        int(size),
                        int(active_cells.get((cohort, offset), 0)) if observable else None,
                    )
                )
        out = pd.DataFrame(
            rows,
            columns=[
                "cohort_month",
                "months_since_first_purchase",
                "month_start",
                "is_observable",
                "cohort_size",
                "active_customers",
            ],
        )
        out["active_customers"] = out["active_customers"].astype("Int64")
        return out

    # ----------------------------------------------------------------- ABC

    def abc(self, revenue: pd.Series) -> pd.DataFrame:
        """item_id, revenue (10^-6), revenue_rank, abc_class with the Pareto rule, in exact arithmetic."""
        # ties by id (PostgreSQL's C collation = code point order); a missing id sorts last, as NULLs do
        items = sorted(
            ((int(amount), None if pd.isna(item) else str(item)) for item, amount in revenue.items()),
            key=lambda pair: (-pair[0], pair[1] is None, pair[1] or ""),
        )
        positive = sum(amount for amount, _ in items if amount > 0)
        rows, before = [], 0
        for rank, (amount, item) in enumerate(items, start=1):
            if amount <= 0 or positive == 0:
                klass = "C"
            elif Fraction(before, positive) < self.a_cutoff:
                klass = "A"
            elif Fraction(before, positive) < self.b_cutoff:
                klass = "B"
            else:
                klass = "C"
            rows.append((item, amount, rank, klass))
            before += amount
        return pd.DataFrame(rows, columns=["item_id", "revenue", "revenue_rank", "abc_class"])

    def abc_countries(self) -> pd.DataFrame:
        return self.abc(self.agg.countries).rename(columns={"item_id": "country"})

    def abc_products(self) -> pd.DataFrame:
        return self.abc(self.agg.products).rename(columns={"item_id": "product_id"})

    # ----------------------------------------------------------------- RFM

    def rfm(self, as_of: date | None = None) -> pd.DataFrame:
        """RFM of every customer with a purchase before `as_of` (default: the as-of date).

        Columns: customer_id (text), recency_days, frequency, monetary (10^-6, returns netted),
        r/f/m scores, rfm_segment (from ``seeds/rfm_segment_map.csv``).
        """
        as_of = as_of or self.as_of_date
        docs = self.customer_documents(as_of)
        purchases = docs[~docs["is_return"]]
        out = pd.DataFrame(
            {
                "last_purchase": purchases.groupby("customer_id")["order_date"].max(),
                "frequency": purchases.groupby("customer_id").size(),
            }
        )
        out["monetary"] = docs.groupby("customer_id")["amount"].sum().reindex(out.index)
        out["recency_days"] = (pd.Timestamp(as_of) - out["last_purchase"]).dt.days
        for column, score, ascending in (
            ("recency_days", "r_score", False),
            ("frequency", "f_score", True),
            ("monetary", "m_score", True),
        ):
            out[score] = rank_scores(out[column], ascending=ascending)
        codes = out["r_score"].astype(str) + out["f_score"].astype(str) + out["m_score"].astype(str)
        out["rfm_segment"] = codes.map(self.segments)
        if out["rfm_segment"].isna().any():
            raise ValueError(
                f"scores missing from seeds/rfm_segment_map.csv: {sorted(set(codes[out['rfm_segment'].isna()]))}"
            )
        out = out.rename_axis("customer_id").reset_index()
        return out[
            ["customer_id", "recency_days", "frequency", "monetary", "r_score", "f_score", "m_score", "rfm_segment"]
        ]

    def history_as_of_dates(self) -> list[date]:
        """The monthly as-of dates of customer_segment_history.

        The first day of every month after the month of the first purchase, up
        to the as-of date; only the last ``rfm_history_months`` of them when
        that var is set.
        """
        docs = self.invoices[self.invoices["customer_id"].notna() & ~self.invoices["is_return"]]
        first = docs["order_date"].min().date()
        dates, month = [], add_months(month_start(first), 1)
        while month <= self.as_of_date:
            dates.append(month)
            month = add_months(month, 1)
        if self.history_months is not None:
            start = month_start(add_months(month_start(self.as_of_date), 1 - int(self.history_months)))
            dates = [day for day in dates if day >= start]
        return dates


def rank_scores(values: pd.Series, ascending: bool = True) -> pd.Series:
    """1–5 scores: 1 + floor(5 * (rank - 1) / n), rank = 1 + the number of strictly worse values.

    Equal values share a rank, hence a score; ``ascending=False`` inverts it
    (for recency: the most recent customers score 5).
    """
    rank = values.rank(method="min", ascending=ascending).astype(np.int64)
    return 1 + (RFM_BUCKETS * (rank - 1)) // len(values)
