"""Progress on a terminal, plain lines without one; the full dbt log in logs/."""

from __future__ import annotations

import fcntl
import io
import logging
import os
import pty
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from pytests.support import ROOT
from pytests.support.db import reset_database
from pytests.support.files import real_head
from pytests.support.ops import Folders, segmart, segmart_env
from segmart.commands import pytest_args
from segmart.progress import DBT_LOGGER, ConsoleProgress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def on_terminal(folders: Folders, *args: str, timeout: float = 900) -> tuple[int, str]:
    """``segmart <args>`` with stdin, stdout and stderr on a pseudo-terminal; (exit code, what it showed)."""
    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # a 120-column window
    process = subprocess.Popen(
        [sys.executable, "-m", "segmart", *args],
        cwd=ROOT,
        stdin=child,
        stdout=child,
        stderr=child,
        env=segmart_env(folders),
        close_fds=True,
    )
    os.close(child)
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([main], [], [], timeout)
        if not ready:
            process.kill()
            raise AssertionError("no output for too long")
        try:
            data = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(main)
    return process.wait(timeout=60), b"".join(chunks).decode("utf-8", "replace")


def _feed(handler: ConsoleProgress, *lines: str) -> None:
    for line in lines:
        handler.handle(logging.LogRecord(DBT_LOGGER, logging.INFO, __file__, 0, line, None, None))


def test_dbt_lines_become_a_bar_and_errors_still_show() -> None:
    screen = _Terminal()
    handler = ConsoleProgress(screen)
    handler.setFormatter(logging.Formatter("%(message)s"))
    total = 3
    _feed(
        handler,
        "01:00:00  Running with dbt=1.11.16",
        "01:00:01  1 of 1 START hook: segmart.on-run-start.0 ..... [RUN]",
        f"01:00:01  1 of {total} START sql view model stg.stg_a ..... [RUN]",
        f"01:00:02  1 of {total} OK created sql view model stg.stg_a ..... [CREATE VIEW in 0.1s]",
        f"01:00:02  2 of {total} START sql table model data_mart.customer_rfm ..... [RUN]",
    )
    assert handler.dbt_bar is not None and handler.dbt_bar.n == 1 and handler.dbt_total == total
    assert "data_mart.customer_rfm" in screen.getvalue()
    assert "START" not in screen.getvalue() and "Running with dbt" not in screen.getvalue()
    _feed(
        handler,
        f"01:00:03  2 of {total} ERROR creating sql table model data_mart.customer_rfm ..... [ERROR in 0.2s]",
        "01:00:03  Database Error in model customer_rfm (models/marts/customers/customer_rfm.sql)",
        f"01:00:03  3 of {total} SKIP relation data_mart.x ..... [SKIP]",
    )
    shown = screen.getvalue()
    assert "ERROR creating sql table model data_mart.customer_rfm" in shown
    assert "Database Error in model customer_rfm" in shown
    assert handler.dbt_bar is None, "the bar closes when every node is done"
    # segmart's own lines pass through
    handler.handle(logging.LogRecord("segmart", logging.INFO, __file__, 0, "status: success", None, None))
    assert "status: success" in screen.getvalue()


def test_the_test_command_names_each_test() -> None:
    assert pytest_args([]) == ["-v"]
    assert pytest_args(["-k", "loaders"]) == ["-v", "-k", "loaders"]
    assert pytest_args(["-q", "pytests/test_help.py"]) == ["-q", "pytests/test_help.py"]
    listed = subprocess.run(
        [sys.executable, "-m", "segmart", "test", "pytests/test_help.py", "-k", "dead_flags"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert listed.returncode == 0, listed.stdout[-2000:]
    assert "test_help.py::test_dead_flags_are_gone_and_choices_read_as_words PASSED" in listed.stdout


def test_a_load_on_a_terminal_shows_a_bar_and_plain_lines_without_one(pg, tmp_path: Path) -> None:
    head = real_head(2_000, tmp_path / "online_retail_head.csv")
    reset_database(pg)
    user = Folders(tmp_path / "tty")
    user.drop("sales", head)
    code, shown = on_terminal(user, "land")
    assert code == 0, shown[-2000:]
    assert "loading" in shown and "file" in shown and "rows" in shown  # the files bar
    assert "status: success" in shown
    reset_database(pg)
    plain = Folders(tmp_path / "plain")
    plain.drop("sales", head)
    piped = segmart(plain, "land")
    assert piped.returncode == 0
    assert "\r" not in piped.stderr and "loading" not in piped.stderr  # no bar in a pipe


@pytest.mark.slow
def test_a_build_on_a_terminal_shows_progress_and_the_full_dbt_log_goes_to_logs(pg, tmp_path: Path) -> None:
    reset_database(pg)
    user = Folders(tmp_path / "tty")
    user.drop("sales", real_head(2_000, tmp_path / "online_retail_head.csv"))
    code, shown = on_terminal(user, "build", "--no-report")
    assert code == 0, shown[-3000:]
    lines = [line for line in shown.replace("\r", "\n").splitlines() if line.strip()]
    assert " of " not in "\n".join(line for line in lines if " START " in line), "no line per dbt node"
    assert any(line.startswith("dbt") and "node" in line for line in lines), "the dbt bar"
    assert "status: success" in shown and "log: " in shown
    (log_file,) = user.logs.glob("build-*.log")
    logged = log_file.read_text(encoding="utf-8")
    assert logged.count(" START ") > 100 and "Completed successfully" in logged  # dbt's whole output
    summary_at = shown.rindex("status: success")
    assert len(shown[summary_at:].splitlines()) < 20, "the summary is the end"
