"""dbt under a lock timeout: never hang behind a BI session.

Every statement dbt sends runs with ``lock_timeout`` (through ``PGOPTIONS``,
which libpq applies to each of dbt's connections), so a statement that needs
a lock a reader holds waits at most that long, and the readers that queue
behind it are released as soon as it gives up. The nodes that failed on a lock
timeout are retried with ``dbt retry`` a bounded number of times; every other
node keeps dbt's own semantics (a failure skips what depends on it). When the
retries are spent, :class:`LockGiveUp` names the sessions that hold the locks.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg2.extensions

from segmart.config import PROJECT_ROOT, SegmartError

log = logging.getLogger("segmart")
dbt_log = logging.getLogger("segmart.dbt")

LOCK_TIMEOUT_TEXT = "lock timeout"
OWN_APPLICATION_PREFIX = "segmart-dbt-"
MART_SCHEMA = "data_mart"
MART_BUILD_SCHEMA = "data_mart_build"  # where the nightly job builds and audits the marts (segmart.ops.publish)


class LockGiveUp(SegmartError):
    """A lock needed by the build stayed held beyond the retries."""


@dataclass
class DbtOutcome:
    """Final status of every node over all attempts."""

    returncode: int = 0
    statuses: dict[str, str] = field(default_factory=dict)  # unique_id -> success|pass|warn|error|fail|skipped
    relations: dict[str, tuple[str, str]] = field(default_factory=dict)  # unique_id -> (schema, name)
    messages: dict[str, str] = field(default_factory=dict)
    attempts: int = 0
    lock_wait_seconds: float = 0.0  # from the first blocked statement's start to giving up
    started: dict[str, datetime] = field(default_factory=dict)  # unique_id -> start of its last execution

    def count(self, *states: str) -> int:
        return sum(1 for status in self.statuses.values() if status in states)

    def stale_marts(self) -> list[str]:
        """The marts (named as published, in data_mart) that this run failed to rebuild."""
        return sorted(
            f"{MART_SCHEMA}.{name}"
            for uid, status in self.statuses.items()
            if status in {"error", "skipped"} and uid.split(".")[0] in {"model", "seed", "snapshot"}
            for schema, name in [self.relations.get(uid, ("", ""))]
            if schema in {MART_SCHEMA, MART_BUILD_SCHEMA}
        )

    def lock_timeouts(self) -> list[str]:
        return [
            uid
            for uid, status in self.statuses.items()
            if status == "error" and LOCK_TIMEOUT_TEXT in self.messages.get(uid, "")
        ]


def target_path() -> Path:
    return Path(os.environ.get("DBT_TARGET_PATH") or PROJECT_ROOT / "target")


def dbt_environment(lock_timeout: float, *, mart_build_schema: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("SEGMART_MART_BUILD_SCHEMA", None)
    if mart_build_schema:
        env["SEGMART_MART_BUILD_SCHEMA"] = mart_build_schema
    option = f"-c lock_timeout={int(lock_timeout * 1000)}"
    env["PGOPTIONS"] = f"{env['PGOPTIONS']} {option}" if env.get("PGOPTIONS") else option
    env["SEGMART_DBT_APPLICATION"] = f"{OWN_APPLICATION_PREFIX}{os.getpid()}"
    env.setdefault("DBT_USE_COLORS", "false")
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    return env


def run_dbt(args: list[str], *, lock_timeout: float, mart_build_schema: str | None = None) -> int:
    """Run dbt with the lock timeout, its output going to the run's log line by line."""
    dbt = Path(sys.executable).with_name("dbt.exe" if os.name == "nt" else "dbt")
    command = [str(dbt), *args, "--project-dir", str(PROJECT_ROOT), "--profiles-dir", str(PROJECT_ROOT)]
    log.info("$ dbt %s", " ".join(args))
    process = subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        env=dbt_environment(lock_timeout, mart_build_schema=mart_build_schema),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    assert process.stdout is not None
    for line in process.stdout:
        dbt_log.info("%s", line.rstrip("\n"))
    return process.wait()


_RELATION_RE = re.compile(r'"?([^".]+)"?\."?([^".]+)"?$')


def _read_results(outcome: DbtOutcome) -> None:
    path = target_path() / "run_results.json"
    try:
        results = json.loads(path.read_text(encoding="utf-8"))["results"]
    except (OSError, ValueError, KeyError) as exc:
        log.warning("could not read dbt's run results (%s): %s", path, exc)
        return
    for result in results:
        uid = result["unique_id"]
        outcome.statuses[uid] = result.get("status") or "error"
        outcome.messages[uid] = result.get("message") or ""
        for step in result.get("timing") or []:
            if step.get("name") == "execute" and step.get("started_at"):
                outcome.started[uid] = datetime.fromisoformat(step["started_at"].replace("Z", "+00:00"))
        match = _RELATION_RE.search(result.get("relation_name") or "")
        if match:
            outcome.relations[uid] = (match.group(1), match.group(2))


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return (stat.st_mtime_ns, stat.st_size)


def build(
    *,
    full_refresh: bool,
    lock_timeout: float,
    retries: int,
    retry_wait: float,
    extra_args: list[str] | None = None,
    mart_build_schema: str | None = None,
) -> DbtOutcome:
    """``dbt build`` plus up to ``retries`` ``dbt retry`` rounds for nodes that hit a lock timeout.

    ``mart_build_schema``: build the marts there instead of in data_mart (write-audit-publish).
    """
    outcome = DbtOutcome()
    args = ["build", *(extra_args or []), *(["--full-refresh"] if full_refresh else [])]
    first_blocked: datetime | None = None
    results_file = target_path() / "run_results.json"
    # Before the first attempt only: a stale file must not pass for this run's
    # results, but ``dbt retry`` reads the previous attempt's file to know what
    # to run again (deleting it made every retry answer "Could not find
    # previous run" and re-read the old statuses).
    results_file.unlink(missing_ok=True)
    while True:
        before = _stamp(results_file)
        outcome.returncode = run_dbt(args, lock_timeout=lock_timeout, mart_build_schema=mart_build_schema)
        outcome.attempts += 1
        if _stamp(results_file) == before:
            log.warning("dbt %s wrote no new run results; the previous statuses stand", args[0])
            break
        _read_results(outcome)
        blocked = outcome.lock_timeouts()
        if blocked and first_blocked is None:
            first_blocked = min((outcome.started[uid] for uid in blocked if uid in outcome.started), default=None)
            first_blocked = first_blocked or datetime.now(UTC)
        if not blocked or outcome.attempts > retries:
            break
        names = ", ".join(".".join(outcome.relations.get(uid, ("?", uid))) for uid in blocked)
        log.warning(
            "lock timeout (%.1f s) on %s: still locked; attempt %d of %d in %.0f s",
            lock_timeout,
            names,
            outcome.attempts + 1,
            retries + 1,
            retry_wait,
        )
        time.sleep(retry_wait)
        args = ["retry"]
    if outcome.lock_timeouts() and first_blocked is not None:
        outcome.lock_wait_seconds = (datetime.now(UTC) - first_blocked).total_seconds()
    return outcome


@dataclass
class Blockers:
    """Who holds the locks the build gave up on: outside sessions only, never segmart's own."""

    outside: bool
    text: str


def describe_blockers(pg: psycopg2.extensions.connection, relations: list[tuple[str, str]]) -> Blockers:
    """One paragraph per outside session that holds a lock on one of ``relations`` (or on any mart).

    segmart's own sessions (dbt's, named ``segmart-dbt-<pid>``, and this process's) are left out:
    a lock the build holds itself is never reported as another session's.
    """
    query = """
        select a.pid, a.usename, a.application_name, coalesce(host(a.client_addr), 'local socket'),
            coalesce(a.xact_start, a.backend_start), a.state, left(a.query, 200),
            string_agg(distinct n.nspname || '.' || c.relname, ', '),
            round(extract(epoch from clock_timestamp() - coalesce(a.xact_start, a.backend_start)))
        from pg_locks as l
        inner join pg_class as c on c.oid = l.relation
        inner join pg_namespace as n on n.oid = c.relnamespace
        inner join pg_stat_activity as a on a.pid = l.pid
        where l.granted and l.pid <> pg_backend_pid()
            and a.application_name not like '{own}%%' and ({condition})
        group by 1, 2, 3, 4, 5, 6, 7, 9
        order by 5
    """
    with pg.cursor() as cur:
        cur.execute(
            query.format(
                own=OWN_APPLICATION_PREFIX,
                condition="(n.nspname, c.relname) in (select * from unnest(%s::text[], %s::text[]))",
            ),
            ([s for s, _ in relations] or [""], [r for _, r in relations] or [""]),
        )
        rows = cur.fetchall()
        if not rows:
            cur.execute(query.format(own=OWN_APPLICATION_PREFIX, condition="n.nspname = %s"), (MART_SCHEMA,))
            rows = cur.fetchall()
    pg.rollback()
    if not rows:
        return Blockers(
            False,
            "No outside session holds a lock on them now (the holder has ended, and segmart's own "
            "sessions are not counted); the next run should go through.",
        )
    parts = []
    for pid, user, app, addr, since, state, text, held, seconds in rows:
        parts.append(
            f"session pid {pid} (user {user}, application {app or 'unnamed'!r}, from {addr}, "
            f"transaction open since {since:%Y-%m-%d %H:%M:%S %Z}, {int(seconds or 0)} s ago, state {state!r}, "
            f"last query: {' '.join((text or '').split())!r}) holds a lock on {held}; "
            f"end it with: select pg_terminate_backend({pid});"
        )
    return Blockers(True, " ".join(parts))
