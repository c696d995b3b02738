"""A partial export re-sent: the documents it makes smaller are reported (newest load wins).

The real file's first 2,000 lines cut its last invoice; an earlier export of
the first 2,100 lines holds that invoice whole. Expected figures come from the
two files, read here with the csv module, never from segmart's output.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest

from pytests.support.db import reset_database, scalar
from pytests.support.files import real_head
from pytests.support.ops import Folders, Stub, segmart

RESENT_ROWS = 2_000
EARLIER_ROWS = 2_100


def documents(path: Path) -> dict[str, tuple[int, Decimal]]:
    """Invoice -> (lines, amount) of a UCI export."""
    out: dict[str, tuple[int, Decimal]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            lines, amount = out.get(row["InvoiceNo"], (0, Decimal(0)))
            out[row["InvoiceNo"]] = (lines + 1, amount + int(row["Quantity"]) * Decimal(row["UnitPrice"]))
    return out


def test_a_re_sent_partial_export_reports_the_documents_it_shrinks(pg, tmp_path: Path) -> None:
    earlier = real_head(EARLIER_ROWS, tmp_path / "online_retail_day1.csv")
    resent = real_head(RESENT_ROWS, tmp_path / "online_retail_resend.csv")
    before, after = documents(earlier), documents(resent)
    shrunk = {
        doc: (before[doc][0] - lines, before[doc][1] - amount)
        for doc, (lines, amount) in after.items()
        if lines < before[doc][0] or abs(amount) < abs(before[doc][1])
    }
    assert shrunk, "the cut must shrink the last invoice"
    last_invoice = list(after)[-1]
    assert last_invoice in shrunk
    lines_fewer = sum(lines for lines, _ in shrunk.values())
    amount_lower = sum(amount for _, amount in shrunk.values())

    reset_database(pg)
    user = Folders(tmp_path / "user")
    user.drop("sales", earlier)
    first = segmart(user, "land")
    assert first.returncode == 0, first.stderr[-2000:]
    assert "documents made smaller by a newer load: none" in first.stderr

    user.drop("sales", resent)
    with Stub() as stub:
        result = segmart(user, "land", SEGMART_ALERT_URLS=f"json://127.0.0.1:{stub.port}/hook")
    assert result.returncode == 0, result.stderr[-3000:]
    assert scalar(pg, "select sum(rows_quarantined) from staging.load_batches") == 0
    expected = (
        f"{len(shrunk):,} document(s) smaller than in the load they replace (newest load wins): "
        f"{lines_fewer:,} line(s) fewer, amount {amount_lower:,.2f} lower"
    )
    lines = result.stderr.splitlines()
    # the load's summary line
    assert any(line.startswith(f"{resent.name}: uci, load #2") and expected in line for line in lines), result.stderr
    new_lines, old_lines = after[last_invoice][0], before[last_invoice][0]
    assert f"{last_invoice} ({new_lines} of {old_lines} lines, " in result.stderr
    # the build's summary
    assert f"documents made smaller by a newer load: {resent.name}: {expected}" in result.stderr
    # the alert, sent although alerts go out on failure only by default
    assert len(stub.received) == 1
    assert "made documents smaller" in stub.received[0]["title"]
    assert expected in stub.received[0]["message"]


@pytest.mark.parametrize("rows", [RESENT_ROWS])
def test_the_same_lines_again_shrink_nothing(pg, tmp_path: Path, rows: int) -> None:
    """A re-send of the same documents (another file name, same lines plus new ones) is not reported."""
    earlier = real_head(rows, tmp_path / "online_retail_a.csv")
    longer = real_head(EARLIER_ROWS, tmp_path / "online_retail_b.csv")
    reset_database(pg)
    user = Folders(tmp_path / "user")
    user.drop("sales", earlier)
    user.drop("sales", longer)
    result = segmart(user, "land")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "documents made smaller by a newer load: none" in result.stderr
    assert "smaller than in the load they replace" not in result.stderr
