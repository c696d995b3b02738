"""The suite's own database: importing this module chooses it.

``segmart`` reads the database name from ``SEGMART_PG_DBNAME`` in the
environment, so it is set here, at import time, and this module must be
imported before any ``segmart`` module. ``conftest.py`` imports it first
(pytest imports conftest before any test module), and ``db``/``runs``
import it too, so a test can never reach the data of ``python3 run.py build``
(default ``segmart``) — the test database is ``SEGMART_TEST_DBNAME``,
default ``segmart_test``.
"""

from __future__ import annotations

import os

TEST_DBNAME = os.environ.get("SEGMART_TEST_DBNAME", "segmart_test")

os.environ["SEGMART_PG_DBNAME"] = TEST_DBNAME
os.environ.setdefault("SEGMART_DBT_THREADS", "4")
