"""``build --engine spark``: land the inbox (or the demo) as Parquet, then one ``dbt build`` on Spark.

What the PostgreSQL build keeps in the database (the run lock, ``ops.build_runs``,
``ops.build_state``, the demo's bookkeeping) has no Spark counterpart yet, so
this build is simpler: it lands, settles the inbox files exactly as the
PostgreSQL build does (archive / reject), runs dbt once (each dbt start costs a
local Spark start, about 25 s) and reports the exit code. See docs/spark.md.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

from loaders.formats import FORMATS_BY_KIND
from loaders.load import LoadResult
from loaders.parquet_landing import land_files
from segmart import config
from segmart.config import SegmartError
from segmart.ops import inbox
from segmart.ops import settings as ops_settings

log = logging.getLogger("segmart")

EXIT_OK, EXIT_PARTIAL, EXIT_ERROR = 0, 1, 2
SPARK_MODULES = {"pyspark": "pyspark", "dbt-spark": "dbt.adapters.spark"}


def missing_requirements() -> list[str]:
    """What the Spark engine needs and this machine lacks, each with how to install it."""
    missing = []
    if shutil.which("java") is None:
        missing.append("Java 17 (`apt-get install openjdk-17-jre-headless`, or the platform's way)")
    for package, module in SPARK_MODULES.items():
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            missing.append(f"{package} (`python3 run.py setup --spark` installs requirements-spark.txt)")
    return missing


def check_requirements() -> None:
    missing = missing_requirements()
    if missing:
        raise SegmartError("The Spark engine needs: " + "; ".join(missing) + ".")


def land(settings: ops_settings.Settings, *, sample: bool) -> list[LoadResult]:
    """The inbox's files, or the demo when the inbox is empty, into the Parquet landing."""
    from segmart.pipeline import sample_files

    root = config.landing_dir()
    pending = {kind: inbox.pending(settings.inbox_dir, kind) for kind in inbox.KINDS}
    if sample or not any(pending.values()):
        log.info("inbox %s is empty: landing the demo data (a re-sent file is skipped by its hash)", settings.inbox_dir)
        return [
            result
            for kind, paths in sample_files().items()
            for result in land_files(root, paths, FORMATS_BY_KIND[kind])
        ]
    results: list[LoadResult] = []
    for kind, formats in FORMATS_BY_KIND.items():
        landed = land_files(root, pending[kind], formats)
        for result in landed:
            inbox.settle(result, kind, settings.archive_dir, settings.rejected_dir)
        results += landed
    return results


def run_dbt(args: list[str]) -> int:
    """dbt on the spark target, in this process's environment (output to the log)."""
    env = dict(os.environ, **{config.ENGINE_VAR: "spark"})
    dbt = Path(sys.executable).with_name("dbt")
    command = [str(dbt), *args, "--project-dir", str(config.PROJECT_ROOT), "--profiles-dir", str(config.PROJECT_ROOT)]
    log.info("running %s", " ".join(command[1:]))
    return subprocess.run(command, cwd=config.PROJECT_ROOT, env=env).returncode


def build(*, sample: bool, full_refresh: bool) -> int:
    check_requirements()
    settings = ops_settings.load()
    results = land(settings, sample=sample)
    failed = [r for r in results if r.status == "failed"]
    args = ["build", "--exclude", "resource_type:unit_test"]
    if full_refresh:
        args.append("--full-refresh")
    code = run_dbt(args)
    if code != 0:
        log.error("dbt build on Spark failed (exit %d): see its output above and target/run_results.json", code)
        return EXIT_PARTIAL if code == 1 else EXIT_ERROR
    log.info(
        "Spark build done: %d file(s) landed, %d skipped as already landed, %d refused; marts in Spark's data_mart",
        sum(r.status == "loaded" for r in results),
        sum(r.status == "duplicate" for r in results),
        len(failed),
    )
    return EXIT_PARTIAL if failed else EXIT_OK
