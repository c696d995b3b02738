"""Bank marts end to end: generate → load → dbt build, checked against Python.

Every expected figure here is recomputed from the CSV files with plain Python,
independently of the SQL: client counts, segments, product popularity and its
ranking, cross-sell suggestions, income bands, the correlation, and where each
staged usage row went. Then the newest-load-wins rule, determinism and
idempotency of loads and builds.
"""

from __future__ import annotations

import csv
import math
import statistics
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from pytests.support.db import mart_checksums, reset_database, rows, scalar
from pytests.support.project import project_var, seed_rows
from pytests.support.runs import run_cli, run_dbt
from segmart.generate import generate_bank

pytestmark = pytest.mark.slow

BANK_SELECTION = ("+path:models/staging/bank", "+path:models/intermediate/bank", "+path:models/marts/bank")
BANK_MARTS = (
    "client_segments",
    "product_popularity_by_segment",
    "client_cross_sell",
    "income_engagement",
    "income_usage_correlation",
    "bank_unknown_client_usage",
    "bank_reconciliation",
    "bank_products",
    "bank_segments",
)
SEGMENT_NAMES = {row["segment_code"]: row["segment_name"] for row in seed_rows("bank_segments")}
BAND_EDGES = tuple(project_var("bank_income_band_edges"))
NO_PRODUCTS_REFERENCE = project_var("bank_no_products_reference_segment")
CLIENTS, USAGES, SEED = 3_000, 24_000, 41


def build_bank(dbt_dir: Path) -> None:
    run_dbt("build", "--select", *BANK_SELECTION, tmp_target=dbt_dir)


def load(*files: Path) -> None:
    run_cli("bank", *map(str, files))


def segment_of(product_count: int) -> str:
    return ("no_products", "one_product", "two_products")[product_count] if product_count < 3 else "three_plus_products"


def band_of(income: int) -> int:
    return sum(income >= edge for edge in BAND_EDGES) + 1


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


class Expected:
    """What the marts must say, computed from clients.csv and product_usage.csv alone."""

    def __init__(self, clients_csv: Path, usage_csv: Path) -> None:
        clients = read_csv(clients_csv)
        usages = read_csv(usage_csv)
        self.staged_clients = len(clients)
        self.staged_usages = len(usages)
        self.income = {int(c["client_id"]): int(c["income"]) for c in clients}
        self.name = {int(c["client_id"]): c["full_name"] for c in clients}
        self.used: dict[int, Counter[str]] = {client_id: Counter() for client_id in self.income}
        self.unknown_usage_ids: set[int] = set()
        for u in usages:
            client_id = int(u["client_id"])
            if client_id in self.used:
                self.used[client_id][u["product_name"]] += 1
            else:
                self.unknown_usage_ids.add(int(u["usage_id"]))
        self.segment = {client_id: segment_of(len(products)) for client_id, products in self.used.items()}
        self.products = sorted({p for used in self.used.values() for p in used} | set(self.catalogue()))

        # popularity per segment: clients using, uses, then the strict ranking
        self.popularity: dict[tuple[str, str], tuple[int, int]] = {}
        self.ranking: dict[str, list[str]] = {}
        for segment in SEGMENT_NAMES:
            members = [c for c, s in self.segment.items() if s == segment]
            for product in self.products:
                self.popularity[segment, product] = (
                    sum(1 for c in members if product in self.used[c]),
                    sum(self.used[c][product] for c in members),
                )
            # Python compares str by code point: the same order as PostgreSQL's "C" collation
            self.ranking[segment] = sorted(
                self.products, key=lambda p, s=segment: (-self.popularity[s, p][0], -self.popularity[s, p][1], p)
            )
        self.segment_size = Counter(self.segment.values())

    @staticmethod
    def catalogue() -> list[str]:
        from segmart.generate.bank import BANK_PRODUCTS

        return [p.name for p in BANK_PRODUCTS]

    def suggestion(self, client_id: int) -> str | None:
        reference = self.segment[client_id] if self.used[client_id] else NO_PRODUCTS_REFERENCE
        return next((p for p in self.ranking[reference] if p not in self.used[client_id]), None)


@pytest.fixture(scope="module")
def bank_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("bank")
    stats = generate_bank(folder, clients=CLIENTS, usages=USAGES, seed=SEED)
    return {"clients": folder / "clients.csv", "usage": folder / "product_usage.csv", "stats": stats}


def test_bank_marts_match_an_independent_computation(clean_pg, dbt_dir: Path, bank_files) -> None:
    pg = clean_pg
    load(bank_files["clients"], bank_files["usage"])
    build_bank(dbt_dir)
    expected = Expected(bank_files["clients"], bank_files["usage"])
    stats = bank_files["stats"]

    # every client exactly once, with or without usage
    assert scalar(pg, "select count(*) from data_mart.client_segments") == CLIENTS == expected.staged_clients
    without_usage = scalar(pg, "select count(*) from data_mart.client_segments where not has_usage")
    assert without_usage == stats["clients_without_usage"] == sum(1 for u in expected.used.values() if not u)
    assert 0.02 * CLIENTS < without_usage < 0.1 * CLIENTS

    # per client: distinct products, uses, segment and its name, income band
    got = {
        r[0]: r[1:]
        for r in rows(
            pg,
            "select client_id, client_name, client_revenue, usage_count, total_usages, client_segment_code,"
            " client_segment, income_band_order from data_mart.client_segments",
        )
    }
    assert set(got) == set(expected.used)
    for client_id, used in expected.used.items():
        segment = expected.segment[client_id]
        assert got[client_id] == (
            expected.name[client_id],
            expected.income[client_id],
            len(used),
            sum(used.values()),
            segment,
            SEGMENT_NAMES[segment],
            band_of(expected.income[client_id]),
        ), client_id
    assert set(expected.segment.values()) == set(SEGMENT_NAMES), "the sample should populate every segment"

    # product × segment: clients, uses, share and the strict rank
    popularity = rows(
        pg,
        "select client_segment_code, product_name, segment_clients, clients_using_product, product_usages,"
        " share_of_segment_clients, popularity_rank from data_mart.product_popularity_by_segment",
    )
    assert len(popularity) == len(SEGMENT_NAMES) * len(expected.products)
    for segment, product, segment_clients, using, uses, share, rank in popularity:
        assert segment_clients == expected.segment_size[segment]
        assert (using, uses) == expected.popularity[segment, product]
        assert math.isclose(float(share), using / segment_clients, abs_tol=1e-6)
        assert expected.ranking[segment][rank - 1] == product, (segment, product)

    # cross-sell: the best-ranked unused product, never a used one
    suggestions = dict(rows(pg, "select client_id, suggested_product_name from data_mart.client_cross_sell"))
    assert len(suggestions) == CLIENTS
    for client_id, product in suggestions.items():
        assert product not in expected.used[client_id]
        assert product == expected.suggestion(client_id), client_id

    # income bands × product count, and the correlation
    engagement = {
        (band, count): clients
        for band, count, clients in rows(
            pg, "select income_band_order, usage_count, clients from data_mart.income_engagement"
        )
    }
    assert engagement == Counter((band_of(expected.income[c]), len(used)) for c, used in expected.used.items())
    pearson = scalar(pg, "select pearson_correlation from data_mart.income_usage_correlation")
    clients_sorted = sorted(expected.used)
    want = statistics.correlation(
        [expected.income[c] for c in clients_sorted], [len(expected.used[c]) for c in clients_sorted]
    )
    assert math.isclose(float(pearson), want, abs_tol=1e-5)
    assert want > 0.1, "the generator makes richer clients hold more products"

    # every staged usage row is counted in the marts or reported
    reconciliation = {
        (entity, status): count
        for entity, status, count in rows(pg, "select entity, row_status, row_count from data_mart.bank_reconciliation")
    }
    unknown = {r[0] for r in rows(pg, "select usage_id from data_mart.bank_unknown_client_usage")}
    assert unknown == expected.unknown_usage_ids
    assert len(unknown) == stats["orphan_usages"]
    assert reconciliation == {
        ("clients", "in_marts"): CLIENTS,
        ("clients", "superseded_duplicate"): 0,
        ("product_usage", "in_marts"): USAGES - len(unknown),
        ("product_usage", "superseded_duplicate"): 0,
        ("product_usage", "unknown_client"): len(unknown),
    }


def _rewrite(source: Path, target: Path, change) -> None:
    """Copy a CSV, passing each row (a dict) through `change`, which returns a list of rows to write."""
    with source.open(newline="", encoding="utf-8") as handle, target.open("w", newline="", encoding="utf-8") as out:
        reader = csv.DictReader(handle)
        writer = csv.DictWriter(out, fieldnames=reader.fieldnames, lineterminator="\n")
        writer.writeheader()
        for row in reader:
            writer.writerows(change(row))


def test_bank_newest_load_wins_and_every_row_is_accounted_for(
    clean_pg, dbt_dir: Path, bank_files, tmp_path: Path
) -> None:
    pg = clean_pg
    load(bank_files["clients"], bank_files["usage"])

    # a second client file: clients 1-100 again with a new income, client 7 twice (the later line wins)
    def new_clients(row: dict[str, str]) -> list[dict[str, str]]:
        client_id = int(row["client_id"])
        if client_id > 100:
            return []
        changed = {**row, "income": str(1_000_000 + client_id)}
        if client_id == 7:
            return [{**row, "income": "1"}, changed]
        return [changed]

    # a second usage file: usage ids 1-500 re-sent, all as a mortgage used on 2030-01-01
    def new_usage(row: dict[str, str]) -> list[dict[str, str]]:
        if int(row["usage_id"]) > 500:
            return []
        return [{**row, "product_name": "Ипотека", "usage_date": "2030-01-01"}]

    _rewrite(bank_files["clients"], tmp_path / "clients_v2.csv", new_clients)
    _rewrite(bank_files["usage"], tmp_path / "usage_v2.csv", new_usage)
    load(tmp_path / "clients_v2.csv", tmp_path / "usage_v2.csv")
    build_bank(dbt_dir)

    incomes = dict(rows(pg, "select client_id, client_revenue from data_mart.client_segments where client_id <= 100"))
    assert incomes == {client_id: 1_000_000 + client_id for client_id in range(1, 101)}
    assert scalar(pg, "select count(*) from data_mart.client_segments") == CLIENTS
    assert scalar(pg, "select count(*) from data_mart.client_segments where last_product_usage_date = '2030-01-01'") > 0
    staged = scalar(pg, "select count(*) from staging.bank_product_usage")
    assert staged == USAGES + 500
    reconciliation = {
        (entity, status): count
        for entity, status, count in rows(pg, "select entity, row_status, row_count from data_mart.bank_reconciliation")
    }
    assert reconciliation["clients", "superseded_duplicate"] == 101  # 100 older rows + client 7's first line
    assert reconciliation["product_usage", "superseded_duplicate"] == 500
    assert sum(count for (entity, _), count in reconciliation.items() if entity == "product_usage") == staged
    assert sum(count for (entity, _), count in reconciliation.items() if entity == "clients") == CLIENTS + 101

    # the re-sent usage rows now all say "Ипотека": a client's mortgage use count includes them
    mortgage_rows = scalar(
        pg,
        "select coalesce(sum(product_usages), 0) from data_mart.product_popularity_by_segment"
        " where product_name = 'Ипотека'",
    )
    expected = Expected(bank_files["clients"], bank_files["usage"])
    original = read_csv(bank_files["usage"])
    moved = defaultdict(int)
    for row in original:
        if int(row["usage_id"]) <= 500 and int(row["client_id"]) in expected.used:
            moved[row["product_name"]] += 1
    known_mortgages = sum(used["Ипотека"] for used in expected.used.values())
    assert mortgage_rows == known_mortgages - moved["Ипотека"] + sum(moved.values())


def test_bank_build_is_deterministic_and_reloading_changes_nothing(
    clean_pg, dbt_dir: Path, bank_files, tmp_path: Path
) -> None:
    pg = clean_pg
    load(bank_files["clients"], bank_files["usage"])
    build_bank(dbt_dir)
    first = mart_checksums(pg, BANK_MARTS)
    assert all(not value.startswith("0:") for name, value in first.items()), first

    # from nothing again, with the files regenerated from the same seed: the same marts
    reset_database(pg)
    again = generate_bank(tmp_path / "again", clients=CLIENTS, usages=USAGES, seed=SEED)
    assert again["usages"] == USAGES
    load(tmp_path / "again" / "clients.csv", tmp_path / "again" / "product_usage.csv")
    build_bank(dbt_dir)
    assert mart_checksums(pg, BANK_MARTS) == first

    # loading the same files twice lands nothing and a rebuild changes nothing
    batches = scalar(pg, "select count(*) from staging.load_batches")
    staged = scalar(pg, "select count(*) from staging.bank_product_usage")
    result = run_cli("bank", str(bank_files["clients"]), str(bank_files["usage"]))
    assert "skipped, identical content" in result.stderr
    assert scalar(pg, "select count(*) from staging.load_batches") == batches
    assert scalar(pg, "select count(*) from staging.bank_product_usage") == staged
    build_bank(dbt_dir)
    assert mart_checksums(pg, BANK_MARTS) == first
