"""Shared fixtures: a real PostgreSQL database for the suite, and dbt runs against it.

The suite uses its own database (``SEGMART_TEST_DBNAME``, default
``segmart_test``) on the configured server, or on the embedded server when
none is configured, so running the tests never touches the data of
``python run.py build``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import psycopg2.extensions
import pytest
from psycopg2 import sql

ROOT = Path(__file__).resolve().parent.parent
REAL_DATA = Path(os.environ.get("SEGMART_REAL_DATA", ROOT.parent / "shared" / "data" / "online_retail.csv.gz"))
TEST_DBNAME = os.environ.get("SEGMART_TEST_DBNAME", "segmart_test")
PROJECT_SCHEMAS = ("staging", "stg", "intermediate", "data_mart", "dbt", "snapshots", "ops")

os.environ["SEGMART_PG_DBNAME"] = TEST_DBNAME
os.environ.setdefault("SEGMART_DBT_THREADS", "4")

from segmart import db  # noqa: E402  (after the database name is chosen)
from segmart.config import Connection  # noqa: E402


def real_data_or_skip() -> Path:
    if not REAL_DATA.is_file():
        pytest.skip(
            f"the UCI Online Retail file is not at {REAL_DATA} (set SEGMART_REAL_DATA to its path to run this test)"
        )
    return REAL_DATA


@pytest.fixture(scope="session")
def connection_info() -> Connection:
    return db.resolve()


@pytest.fixture
def pg(connection_info: Connection) -> Iterator[psycopg2.extensions.connection]:
    conn = db.connect(connection_info)
    yield conn
    conn.close()


def reset_database(conn: psycopg2.extensions.connection) -> None:
    """Drop every schema the project creates, so a test starts from nothing."""
    conn.rollback()
    with conn.cursor() as cur:
        for schema in PROJECT_SCHEMAS:
            cur.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema)))
    conn.commit()


@pytest.fixture
def clean_pg(pg: psycopg2.extensions.connection) -> psycopg2.extensions.connection:
    reset_database(pg)
    return pg


def scalar(conn: psycopg2.extensions.connection, query: str, params: tuple = ()) -> object:
    with conn.cursor() as cur:
        cur.execute(query, params)
        row = cur.fetchone()
    conn.commit()
    return None if row is None else row[0]


def rows(conn: psycopg2.extensions.connection, query: str, params: tuple = ()) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(query, params)
        out = cur.fetchall()
    conn.commit()
    return out


def run_cli(*args: str, check: bool = True, timeout: float = 1200) -> subprocess.CompletedProcess[str]:
    """``python -m segmart ...`` in a subprocess, against the test database."""
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
    """``dbt <args>`` against the test database, with its own target/log paths."""
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


@pytest.fixture(scope="session")
def dbt_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dbt")
