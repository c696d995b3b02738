"""Loads as separate processes: killed in the middle of the COPY, and two identical loads at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg2.extensions
import pytest

from loaders.load import ensure_schema
from pytests.support import ROOT
from pytests.support.db import rows, scalar
from pytests.support.runs import run_cli
from segmart.generate import generate_sales

KILL_ROWS = 1_500_000
CONCURRENT_ROWS = 600_000


def _start_load(*args: str, log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "segmart", "sales", *args],
            cwd=ROOT,
            env=dict(os.environ),
            stdout=subprocess.DEVNULL,
            stderr=out,
        )


def _copy_in_progress(pg: psycopg2.extensions.connection) -> tuple[int, int] | None:
    """(backend pid, tuples copied so far) of a COPY into staging.sales_uci_lines in this database."""
    found = rows(
        pg,
        """
        select p.pid, p.tuples_processed
        from pg_stat_progress_copy as p
        where p.datid = (select oid from pg_database where datname = current_database())
          and p.relid = to_regclass('staging.sales_uci_lines')
        """,
    )
    return found[0] if found else None


def _wait_for_copy(pg: psycopg2.extensions.connection, proc: subprocess.Popen, at_least: int) -> int:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        progress = _copy_in_progress(pg)
        if progress is not None and progress[1] >= at_least:
            return progress[0]
        assert proc.poll() is None, "the load finished before it could be interrupted"
        time.sleep(0.02)
    raise AssertionError("the load never reached its COPY")


def _checked_load_in_its_copy(pg: psycopg2.extensions.connection, path: Path, seed: int, log: Path) -> subprocess.Popen:
    """Generate a file of CONCURRENT_ROWS lines and start a (slower) checked load of it, in its COPY."""
    generate_sales(path, fmt="uci", rows=CONCURRENT_ROWS, customers=3000, days=200, seed=seed)
    ensure_schema(pg)
    proc = _start_load("--checked", str(path), log=log)
    try:
        _wait_for_copy(pg, proc, at_least=1)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return proc


def _advisory_locks(pg: psycopg2.extensions.connection) -> int:
    return scalar(
        pg,
        "select count(*) from pg_locks where locktype = 'advisory' "
        "and database = (select oid from pg_database where datname = current_database())",
    )


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.csv"
    stats = generate_sales(path, fmt="uci", rows=KILL_ROWS, customers=5000, days=365, seed=3)
    assert stats["rows"] == KILL_ROWS
    return path


@pytest.mark.slow
def test_load_killed_mid_copy_leaves_nothing_and_a_rerun_lands_everything(
    clean_pg: psycopg2.extensions.connection, big_file: Path, tmp_path: Path
) -> None:
    ensure_schema(clean_pg)
    proc = _start_load(str(big_file), log=tmp_path / "killed.log")
    try:
        backend = _wait_for_copy(clean_pg, proc, at_least=50_000)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL

    # the server sees the client go away and rolls the transaction back
    deadline = time.monotonic() + 60
    while scalar(clean_pg, "select count(*) from pg_stat_activity where pid = %s", (backend,)):
        assert time.monotonic() < deadline, "the killed loader's backend is still there"
        time.sleep(0.05)
    assert scalar(clean_pg, "select count(*) from staging.sales_uci_lines") == 0
    assert scalar(clean_pg, "select count(*) from staging.load_batches") == 0
    assert scalar(clean_pg, "select count(*) from staging.load_quarantine") == 0
    assert _advisory_locks(clean_pg) == 0

    rerun = run_cli("sales", str(big_file), timeout=600)
    assert "big.csv: uci, load #" in rerun.stderr
    [(load_id, read, loaded, quarantined)] = rows(
        clean_pg, "select load_id, rows_read, rows_loaded, rows_quarantined from staging.load_batches"
    )
    assert read == KILL_ROWS and loaded + quarantined == KILL_ROWS
    lines = rows(
        clean_pg,
        """
        select count(*), count(distinct line_number), min(line_number), max(line_number)
        from (
            select line_number from staging.sales_uci_lines where load_id = %(id)s
            union all
            select line_number from staging.load_quarantine where load_id = %(id)s
        ) as accounted
        """,
        {"id": load_id},
    )
    assert lines == [(KILL_ROWS, KILL_ROWS, 2, KILL_ROWS + 1)]
    assert scalar(clean_pg, "select count(*) from staging.sales_uci_lines") == loaded
    assert _advisory_locks(clean_pg) == 0


@pytest.mark.slow
def test_two_identical_loads_at_once_land_exactly_once(
    clean_pg: psycopg2.extensions.connection, tmp_path: Path
) -> None:
    path = tmp_path / "same.csv"
    # the first one takes the (slower) checked path, so that the second surely finds it running
    first = _checked_load_in_its_copy(clean_pg, path, seed=4, log=tmp_path / "first.log")
    second = None
    try:
        second = _start_load(str(path), log=tmp_path / "second.log")
        deadline = time.monotonic() + 60
        while not scalar(clean_pg, "select count(*) from pg_locks where locktype = 'advisory' and not granted"):
            assert first.poll() is None, "the first load ended before the second one asked for the lock"
            assert time.monotonic() < deadline, "the second load never waited for the lock"
            time.sleep(0.02)
        assert first.wait(timeout=300) == 0
        assert second.wait(timeout=300) == 0
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
    logs = [(tmp_path / name).read_text() for name in ("first.log", "second.log")]
    assert "same.csv: uci, load #" in logs[0]
    assert "same.csv: skipped, identical content already landed as load #" in logs[1]
    assert "another load into staging.sales_uci_lines is running; waiting" in logs[1]
    assert rows(clean_pg, "select rows_read, rows_loaded from staging.load_batches") == [
        (CONCURRENT_ROWS, CONCURRENT_ROWS)
    ]
    assert scalar(clean_pg, "select count(*) from staging.sales_uci_lines") == CONCURRENT_ROWS
    assert _advisory_locks(clean_pg) == 0


def test_two_different_files_at_once_both_land(clean_pg: psycopg2.extensions.connection, tmp_path: Path) -> None:
    paths = []
    for seed in (1, 2):
        path = tmp_path / f"part{seed}.csv"
        generate_sales(path, fmt="uci", rows=20_000, customers=300, days=30, seed=seed)
        paths.append(path)
    procs = [_start_load(str(p), log=tmp_path / f"{p.stem}.log") for p in paths]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    assert rows(clean_pg, "select file_name, rows_loaded from staging.load_batches order by file_name") == [
        ("part1.csv", 20_000),
        ("part2.csv", 20_000),
    ]
    assert scalar(clean_pg, "select count(*) from staging.sales_uci_lines") == 40_000


@pytest.mark.slow
def test_a_load_into_another_target_does_not_wait_for_a_running_one(
    clean_pg: psycopg2.extensions.connection, tmp_path: Path
) -> None:
    bank = tmp_path / "clients.csv"
    bank.write_text("client_id,full_name,income\n1,Иванов Иван,50000\n", encoding="utf-8")
    running = _checked_load_in_its_copy(clean_pg, tmp_path / "sales.csv", seed=5, log=tmp_path / "sales.log")
    try:
        started = time.monotonic()
        run_cli("bank", str(bank), timeout=120)
        assert running.poll() is None, "the sales load ended first: the bank load may have waited for it"
        assert time.monotonic() - started < 10
        assert running.wait(timeout=300) == 0
    finally:
        if running.poll() is None:
            running.kill()
            running.wait()
    assert rows(clean_pg, "select target, rows_loaded from staging.load_batches order by target") == [
        ("bank_clients", 1),
        ("sales_uci_lines", CONCURRENT_ROWS),
    ]
