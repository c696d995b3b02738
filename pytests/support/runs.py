"""The project's CLI and dbt, run in subprocesses against the test database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg2.extensions

from pytests.support import (
    ROOT,
    testdb,  # noqa: F401  (chooses the test database: see its docstring)
)
from pytests.support.db import reset_database
from pytests.support.files import real_data_or_skip
from pytests.support.testdb import TEST_DBNAME
from segmart import db
from segmart.config import Connection

# The test that is running, as conftest's hook reports it: (node id, has the slow mark).
_running: tuple[str, bool] | None = None

# `dbt build` of the sales marts and cohort_retention (a customer mart built from the
# sales layer), with only the tests of the selected models: eager selection would
# also pick relationship tests of marts this selection does not build
SALES_MARTS_BUILD = (
    "build",
    "--select",
    "+path:models/marts/sales +cohort_retention",
    "--indirect-selection",
    "cautious",
)

# CLI commands that run dbt
DBT_COMMANDS = frozenset({"build"})


def set_running_test(nodeid: str | None, slow: bool = False) -> None:
    """Called by ``conftest.py`` around every test; ``None`` between tests."""
    global _running
    _running = None if nodeid is None else (nodeid, slow)


def _require_slow_mark(what: str) -> None:
    """Fail a test that runs dbt without the ``slow`` marker (its fixtures count as the test)."""
    if _running is not None and not _running[1]:
        raise AssertionError(
            f"{_running[0]} runs {what} but is not marked slow: add @pytest.mark.slow (or a module pytestmark)"
        )


def run_cli(*args: str, check: bool = True, timeout: float = 1200) -> subprocess.CompletedProcess[str]:
    """``python -m segmart ...`` in a subprocess, against the test database."""
    if args and args[0] in DBT_COMMANDS:
        _require_slow_mark(f"dbt (segmart {args[0]})")
    result = subprocess.run(
        [sys.executable, "-m", "segmart", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ),
    )
    if check and result.returncode != 0:
        raise AssertionError(f"segmart {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


def run_dbt(
    *args: str, tmp_target: Path, check: bool = True, timeout: float = 3000
) -> subprocess.CompletedProcess[str]:
    """``dbt <args>`` against the test database, with its own target/log paths.

    A test that calls this (itself or through a fixture) must carry the
    ``slow`` marker, or it fails here, before dbt starts.
    """
    _require_slow_mark("dbt")
    env = dict(os.environ)
    env["DBT_TARGET_PATH"] = str(tmp_target / "target")
    env["DBT_LOG_PATH"] = str(tmp_target / "logs")
    env["DBT_PROFILES_DIR"] = str(ROOT)
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    dbt = Path(sys.executable).with_name("dbt")
    result = subprocess.run(
        [str(dbt), *args, "--project-dir", str(ROOT), "--profiles-dir", str(ROOT)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed ({result.returncode}):\n{result.stdout[-6000:]}")
    return result


def land_real_file(connection_info: Connection) -> psycopg2.extensions.connection:
    """The test database emptied and holding only the real UCI file, landed by the CLI.

    Skips the calling test (with the reason) when the file is absent. The caller
    closes the returned connection.
    """
    path = real_data_or_skip()
    assert connection_info.dbname == TEST_DBNAME
    pg = db.connect(connection_info)
    reset_database(pg)
    run_cli("sales", str(path), timeout=900)
    return pg
