"""The run log: one ``ops.build_runs`` row per build and one log file per run."""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

log = logging.getLogger("segmart")

LOG_PREFIX = "build-"


def ensure_schema(pg: psycopg2.extensions.connection) -> None:
    ddl = resources.files("segmart.ops").joinpath("schema.sql").read_text(encoding="utf-8")
    with pg.cursor() as cur:
        cur.execute("select to_regclass('ops.pending') is not null")
        if cur.fetchone()[0]:
            pg.rollback()
            return
        cur.execute("select pg_advisory_xact_lock(hashtext('segmart.ops.schema'))")
        cur.execute(ddl)
    pg.commit()


@dataclass
class RunRecord:
    """What a run did, filled in as it goes; one row of ops.build_runs."""

    started: float = field(default_factory=time.monotonic)
    run_id: int | None = None
    status: str = "running"
    exit_code: int | None = None
    full_refresh: bool = False
    used_sample: bool = False
    files_landed: int = 0
    files_skipped: int = 0
    files_refused: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    dbt_passed: int = 0
    dbt_warned: int = 0
    dbt_failed: int = 0
    dbt_skipped: int = 0
    stale_marts: list[str] = field(default_factory=list)
    stale_sources: list[str] = field(default_factory=list)
    anomalies: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # post-build steps that failed, or an audit that did
    published_marts: int | None = None  # marts moved into data_mart by the run's publication (None: none ran)
    publish_lock_seconds: float | None = None
    error_text: str | None = None
    log_file: Path | None = None

    @property
    def duration(self) -> float:
        return time.monotonic() - self.started


def start(pg: psycopg2.extensions.connection, record: RunRecord) -> None:
    with pg.cursor() as cur:
        # runs that died without finishing (their lock is gone, since we hold it now)
        cur.execute(
            "update ops.build_runs set status = 'aborted', finished_at = clock_timestamp(), "
            "error_text = 'the run ended without recording its result (killed or crashed)' where status = 'running'"
        )
        cur.execute(
            "insert into ops.build_runs (host_name, log_file) values (%s, %s) returning run_id",
            (socket.gethostname(), str(record.log_file) if record.log_file else None),
        )
        record.run_id = cur.fetchone()[0]
    pg.commit()


def finish(pg: psycopg2.extensions.connection, record: RunRecord) -> None:
    """Complete the run's row; a broken connection only costs the row (logged)."""
    values = {
        "status": record.status,
        "exit_code": record.exit_code,
        "full_refresh": record.full_refresh,
        "used_sample": record.used_sample,
        "files_landed": record.files_landed,
        "files_skipped": record.files_skipped,
        "files_refused": record.files_refused,
        "rows_loaded": record.rows_loaded,
        "rows_quarantined": record.rows_quarantined,
        "dbt_passed": record.dbt_passed,
        "dbt_warned": record.dbt_warned,
        "dbt_failed": record.dbt_failed,
        "dbt_skipped": record.dbt_skipped,
        "stale_marts": ", ".join(record.stale_marts) or None,
        "stale_sources": ", ".join(record.stale_sources) or None,
        "duration_seconds": round(record.duration, 1),
        "error_text": record.error_text,
    }
    statement = sql.SQL("update ops.build_runs set {}, finished_at = clock_timestamp() where run_id = %(run_id)s")
    assignments = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(name), sql.Placeholder(name)) for name in values
    )
    try:
        pg.rollback()
        with pg.cursor() as cur:
            cur.execute(statement.format(assignments), {**values, "run_id": record.run_id})
        pg.commit()
    except psycopg2.Error as exc:
        log.error("could not record the run in ops.build_runs: %s", str(exc).strip())


# ---------------------------------------------------------------- log files


class SecretFilter(logging.Filter):
    """Replaces secret values in every record by ``***``."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        cleaned = message
        for secret in self.secrets:
            cleaned = cleaned.replace(secret, "***")
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def open_log_file(log_dir: Path, keep_days: float) -> tuple[Path, logging.Handler]:
    """A new log file for this run (attached to the ``segmart`` logger); old ones are pruned."""
    log_dir.mkdir(parents=True, exist_ok=True)
    prune(log_dir, keep_days)
    stamp = datetime.now(UTC).astimezone().strftime("%Y%m%d-%H%M%S")
    path = log_dir / f"{LOG_PREFIX}{stamp}-{os.getpid()}.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    handler.setLevel(logging.INFO)
    return path, handler


def prune(log_dir: Path, keep_days: float) -> int:
    cutoff = time.time() - keep_days * 86400
    removed = 0
    for path in log_dir.glob(f"{LOG_PREFIX}*.log"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError as exc:
            log.warning("could not remove old log %s: %s", path, exc)
    return removed


def install_secret_filter(secrets: list[str], *handlers: logging.Handler) -> SecretFilter:
    """Filter secrets out of the given handlers and of every handler of the root logger."""
    secret_filter = SecretFilter(secrets)
    for handler in [*logging.getLogger().handlers, *handlers]:
        handler.addFilter(secret_filter)
    return secret_filter
