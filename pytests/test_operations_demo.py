"""The demo never mixes with the user's data.

The exact sequence a new user follows — fresh database, ``build`` (the demo),
own file into the inbox, ``build`` — must give the marts a clean build of the
own file alone gives (same checksums), for sales and for bank.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from pytests.support.db import mart_checksums, reset_database, scalar
from pytests.support.ops import Folders, generate_bank, generate_sales, segmart

RUN_LOG = "build_runs"  # the run log differs by nature (times, counts of runs)
# when the CLV step fitted and how long it took (clv_model_fit): times, not results
FIT_TIMES = ("fitted_at", "fit_seconds")


def own_files(kind: str, where: Path) -> list[Path]:
    if kind == "sales":
        return [generate_sales(where / "my_shop.csv", rows=5000, seed=201)]
    folder = generate_bank(where / "bank", seed=202)
    return [folder / "clients.csv", folder / "product_usage.csv"]


def marts_without_run_log(pg) -> dict[str, str]:
    sums = mart_checksums(pg, ignore_columns=FIT_TIMES)
    sums.pop(RUN_LOG)
    return sums


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sales", "bank"])
def test_demo_then_own_file_equals_a_clean_build_of_the_own_file(kind: str, pg, tmp_path: Path) -> None:
    files = own_files(kind, tmp_path)
    # fresh clone: build shows the demo
    reset_database(pg)
    user = Folders(tmp_path / "user")
    demo = segmart(user, "build")
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert "showing the bundled demo data" in demo.stderr
    assert scalar(pg, "select count(*) from ops.sample_loads") == 5  # uci, 1C, bank clients and usage, events
    reports = user.root / "reports"
    today = date.today().isoformat()
    assert [p.name for p in reports.iterdir()] == ["demo"], "the demo's files stay apart"
    assert f"segmart_report_{today}_uci-onec-bank.html" in [p.name for p in (reports / "demo").iterdir()]
    demo_sums = marts_without_run_log(pg)
    # the user's own file lands: the demo goes, in the same transaction, with a message
    for path in files:
        user.drop(kind, path)
    own = segmart(user, "build")
    assert own.returncode == 0, own.stderr[-3000:]
    assert "removed the demo data (5 load(s)" in own.stderr
    assert "full refresh of every model" in own.stderr
    assert scalar(pg, "select count(*) from ops.sample_loads") == 0
    assert scalar(pg, "select count(*) from ops.pending") == 0
    # the demo leaves completely: its report and lists too; the own report is named by run date and source
    assert not (reports / "demo").exists()
    assert "removed the demo's report and lists" in own.stderr
    assert [p.name for p in reports.glob("segmart_report_*.html")] == [
        f"segmart_report_{today}_{'uci' if kind == 'sales' else 'bank'}.html"
    ]
    sequence_sums = marts_without_run_log(pg)
    # and the next run with an empty inbox does not bring the demo back
    daily = segmart(user, "land")
    assert daily.returncode == 0, daily.stderr[-2000:]
    assert "showing the bundled demo data" not in daily.stderr
    assert scalar(pg, "select count(*) from ops.sample_loads") == 0
    # a clean database given only the own file
    reset_database(pg)
    clean = Folders(tmp_path / "clean")
    for path in files:
        clean.drop(kind, path)
    alone = segmart(clean, "build")
    assert alone.returncode == 0, alone.stderr[-3000:]
    assert "showing the bundled demo data" not in alone.stderr
    clean_sums = marts_without_run_log(pg)
    assert sequence_sums == clean_sums
    changed = [name for name in clean_sums if clean_sums[name] != demo_sums.get(name)]
    assert changed, "the own file must change the marts"
