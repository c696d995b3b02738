"""Shared fixtures: a real PostgreSQL database for the suite, and dbt runs against it.

The suite uses its own database (``SEGMART_TEST_DBNAME``, default
``segmart_test``) on the configured server, or on the embedded server when
none is configured, so running the tests never touches the data of
``python3 run.py build``. Plain helpers (queries, CLI and dbt runs, data
files, the pandas reference) live in ``pytests/support/``; this file only
turns them into fixtures.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg2.extensions
import pytest

from pytests.support import (
    runs,
    testdb,  # noqa: F401  (first: chooses the test database before segmart is imported)
)
from pytests.support.db import reset_database
from segmart import db
from segmart.config import Connection


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> object:
    """Tell ``support.runs`` which test runs, so that running dbt without the slow mark fails."""
    runs.set_running_test(item.nodeid, slow=item.get_closest_marker("slow") is not None)
    try:
        return (yield)
    finally:
        runs.set_running_test(None)


@pytest.fixture(scope="session")
def connection_info() -> Connection:
    return db.resolve()


@pytest.fixture
def pg(connection_info: Connection) -> Iterator[psycopg2.extensions.connection]:
    conn = db.connect(connection_info)
    yield conn
    conn.close()


@pytest.fixture
def clean_pg(pg: psycopg2.extensions.connection) -> psycopg2.extensions.connection:
    reset_database(pg)
    return pg


@pytest.fixture(scope="session")
def dbt_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dbt")
