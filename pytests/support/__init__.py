"""Plain helpers of the test suite; the fixtures that use them live in ``pytests/conftest.py``.

* ``testdb``: chooses the suite's own database; imported before anything imports ``segmart``;
* ``db``: queries, schema reset, mart checksums;
* ``runs``: the CLI and dbt in subprocesses;
* ``files``: the real data file and surgery on UCI exports;
* ``project``: dbt vars of ``dbt_project.yml`` and the seeds;
* ``reference``: the business rules recomputed in plain pandas (``bench/`` uses it too).

Importing this package itself changes nothing, so ``bench/`` can import
``reference`` without touching the environment.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
