"""The Parquet landing (loaders/parquet_landing.py): the hostile corpus, re-sends, killed loads, memory.

Every corpus case must land as Parquet exactly as its expectation says (the
same expectations the PostgreSQL paths meet in test_loaders.py): rows landed,
lines quarantined and why, blank lines, typed values, raw lines, and the line
a whole-file failure names. No database and no Spark are needed.
"""

from __future__ import annotations

import tracemalloc
from decimal import Decimal
from pathlib import Path

import pytest

# the Parquet landing needs requirements-spark.txt; without it this module skips, saying so
pq = pytest.importorskip(
    "pyarrow.parquet", reason="pyarrow is not installed: python3 run.py setup --spark installs requirements-spark.txt"
)

from loaders import parquet_landing  # noqa: E402
from loaders.formats import SALES_FORMATS  # noqa: E402
from loaders.parquet_landing import BATCHES_SCHEMA, land_files  # noqa: E402
from pytests.corpus import CASE_IDS, CASES, GOOD, row, uci  # noqa: E402
from segmart.generate import generate_sales  # noqa: E402

TARGETS = {"uci": "sales_uci_lines", "uci2": "sales_uci_lines", "onec": "sales_onec_lines"}


def _table(root: Path, name: str) -> list[dict]:
    return pq.read_table(root / name).to_pylist()


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_corpus_case_lands_as_expected(tmp_path: Path, case) -> None:
    source = tmp_path / "in"
    source.mkdir()
    path = case.write(source)
    expect = case.expected(path)
    root = tmp_path / "landing"
    [result] = land_files(root, [path], SALES_FORMATS)
    if expect.fails:
        assert result.status == "failed" and result.unusable
        [failure] = _table(root, "load_failures")
        assert failure["line_number"] == (expect.failure_line or None)  # 0: a problem of no line
        assert expect.failure_text in failure["problem"]
        assert _table(root, "load_batches") == []
        return
    assert result.status == "loaded", result.error
    assert result.fmt == expect.fmt
    assert (result.rows_loaded, result.blank_lines) == (expect.loaded, expect.blank_lines)
    target = TARGETS[expect.fmt]
    landed = {line["line_number"]: line for line in _table(root, target)}
    assert len(landed) == expect.loaded
    assert {line["load_id"] for line in landed.values()} <= {result.load_id}
    quarantine = {line["line_number"]: line for line in _table(root, "load_quarantine")}
    assert set(quarantine) == set(expect.quarantined)
    for line_number, reason in expect.quarantined.items():
        assert quarantine[line_number]["reason"].startswith(reason), quarantine[line_number]
    for line_number, raw in expect.raw.items():
        assert quarantine[line_number]["raw_line"] == raw
    for line_number, values in expect.values.items():
        for column, value in values.items():
            assert landed[line_number][column] == value, (line_number, column)
    [batch] = _table(root, "load_batches")
    assert batch["rows_read"] == batch["rows_loaded"] + batch["rows_quarantined"] == expect.read
    assert batch["target"] == target


def test_resent_file_is_skipped_and_loads_are_numbered(tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text(uci(GOOD))
    second.write_text(uci([row(InvoiceNo="600001")]))
    root = tmp_path / "landing"
    assert [r.load_id for r in land_files(root, [first, second], SALES_FORMATS)] == [1, 2]
    renamed = tmp_path / "a copy.csv"
    renamed.write_bytes(first.read_bytes())
    [again] = land_files(root, [renamed], SALES_FORMATS)
    assert (again.status, again.duplicate_of, again.duplicate_rows) == ("duplicate", 1, len(GOOD))
    assert len(_table(root, "sales_uci_lines")) == len(GOOD) + 1
    assert [b["load_id"] for b in _table(root, "load_batches")] == [1, 2]


def test_killed_load_leaves_nothing_and_is_cleaned_up(tmp_path: Path) -> None:
    """A load killed after renaming its rows but before its batch row: the next load removes them."""
    root = tmp_path / "landing"
    path = tmp_path / "a.csv"
    path.write_text(uci(GOOD))
    land_files(root, [path], SALES_FORMATS)
    # what a load killed half way leaves: rows of load 2 without a batch row, a folder in .incoming
    orphan = root / "sales_uci_lines" / "load-0000000002.parquet"
    orphan.hardlink_to(root / "sales_uci_lines" / "load-0000000001.parquet")
    (root / ".incoming" / "2-dead").mkdir()
    assert len(_table(root, "sales_uci_lines")) == 2 * len(GOOD)
    other = tmp_path / "b.csv"
    other.write_text(uci([row(InvoiceNo="600001")]))
    [result] = land_files(root, [other], SALES_FORMATS)
    assert result.load_id == 2
    assert not (root / ".incoming" / "2-dead").exists()
    lines = _table(root, "sales_uci_lines")
    assert len(lines) == len(GOOD) + 1
    assert {line["load_id"] for line in lines} == {1, 2}


def test_a_number_too_wide_for_the_landing_is_quarantined(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(uci([row(UnitPrice="0.0000000001"), row(UnitPrice="1e20"), row(UnitPrice="2.5")]))
    [result] = land_files(tmp_path / "landing", [path], SALES_FORMATS)
    assert (result.rows_loaded, result.rows_quarantined) == (1, 2)
    reasons = {q["line_number"]: q["reason"] for q in _table(tmp_path / "landing", "load_quarantine")}
    assert set(reasons) == {2, 3}
    assert all("does not fit decimal(24, 9)" in reason for reason in reasons.values())
    [landed] = _table(tmp_path / "landing", "sales_uci_lines")
    assert landed["unit_price"] == Decimal("2.5")


def test_empty_landing_reads_as_tables(tmp_path: Path) -> None:
    parquet_landing.ensure_landing(tmp_path)
    assert pq.read_table(tmp_path / "load_batches").schema.equals(BATCHES_SCHEMA)
    assert pq.read_table(tmp_path / "sales_onec_lines").num_rows == 0


def test_memory_stays_flat_in_the_file_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Peak Python memory of a 4x larger file stays within 1.5 times that of the smaller one.

    Both files hold several row groups (ROWS_PER_GROUP rows), so a load that
    kept rows beyond one group would show here.
    """
    monkeypatch.setattr(parquet_landing, "ROWS_PER_GROUP", 2_000)  # small groups keep the test fast
    peaks = []
    for rows in (3 * parquet_landing.ROWS_PER_GROUP, 12 * parquet_landing.ROWS_PER_GROUP):
        path = tmp_path / f"sales-{rows}.csv"
        generate_sales(path, fmt="uci", rows=rows, customers=500, days=365, seed=3)
        tracemalloc.start()
        land_files(tmp_path / f"landing-{rows}", [path], SALES_FORMATS)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < 1.5 * peaks[0], peaks
