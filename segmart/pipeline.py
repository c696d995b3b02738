"""The main job: database up, data landed, marts built, the run recorded and reported.

``build`` is a sequence of steps around one ``RunRecord``; work that belongs
after the marts are built (a report, an export) goes into ``POST_BUILD``.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import psycopg2.extensions

from loaders.formats import FORMATS_BY_KIND
from loaders.load import LoadResult, load_files
from segmart import build_state, db, progress
from segmart.config import PASSWORD_VAR, PROJECT_ROOT, Connection, SegmartError, bi_role, first_line
from segmart.generate import generate_bank, generate_events, generate_sales
from segmart.ops import alerts, demo, freshness, inbox, locks, publish, runlog
from segmart.ops import settings as ops_settings
from segmart.ops.runlock import RunInProgress, run_lock
from segmart.report.settings import ReportSettings

log = logging.getLogger("segmart")

DATA_DIR = PROJECT_ROOT / "data"
SAMPLE_DIR = DATA_DIR / "sample"

# Exit codes of `segmart build` (documented in docs/operations.md, "Exit codes").
EXIT_OK = 0
EXIT_PARTIAL = 1  # a file was refused, the 1C pull failed, or some marts are stale (the others were refreshed)
EXIT_ERROR = 2  # configuration or build error: nothing was refreshed
EXIT_LOCKED = 3  # gave up behind a lock held by another session (a BI tool); marts as before
EXIT_RUNNING = 75  # another build was running (EX_TEMPFAIL); this one did nothing

STATUS_OF_EXIT = {
    EXIT_OK: "success",
    EXIT_PARTIAL: "partial",
    EXIT_ERROR: "failed",
    EXIT_LOCKED: "locked_out",
}


# the demo's event log: ~7 purchases a day, so that its planted spikes stand out (docs/events.md)
SAMPLE_EVENT_ROWS = 100_000


def sample_files() -> dict[str, list[Path]]:
    """The demo's inputs by kind (sales, bank, events), generated once (deterministically) into data/sample/."""
    SAMPLE_DIR.mkdir(parents=True, exist_ok=True)
    uci = SAMPLE_DIR / "online_retail_sample.csv"
    onec = SAMPLE_DIR / "realizaciya_sample.csv"
    bank_dir = SAMPLE_DIR / "bank"
    events = SAMPLE_DIR / "events_sample.csv.gz"
    if not uci.is_file():
        generate_sales(uci, fmt="uci", rows=60_000, customers=1_500, days=373, seed=42)
    if not onec.is_file():
        generate_sales(onec, fmt="onec", rows=15_000, customers=400, days=365, seed=7)
    if not (bank_dir / "product_usage.csv").is_file():
        generate_bank(bank_dir, clients=5_000, usages=40_000, seed=11)
    if not events.is_file():
        generate_events(events, rows=SAMPLE_EVENT_ROWS, seed=42)
    return {
        "sales": [uci, onec],
        "bank": [bank_dir / "clients.csv", bank_dir / "product_usage.csv"],
        "events": [events],
    }


def run_dbt(args: list[str]) -> int:
    """dbt with the configured lock timeout, its output in the log."""
    return locks.run_dbt(args, lock_timeout=ops_settings.load().lock_timeout)


@dataclass
class BuildRun:
    """Everything a step of the build (and a post-build step) may need."""

    settings: ops_settings.Settings
    record: runlog.RunRecord
    conn_info: Connection | None = None
    pg: psycopg2.extensions.connection | None = None  # holds the run lock; steps may query with it
    results: list[LoadResult] = field(default_factory=list)
    outcome: locks.DbtOutcome | None = None
    report: ReportSettings | None = None  # write the manager report after the marts
    report_files: list[Path] = field(default_factory=list)


# Steps run after the marts are built, in order: ``step(run)``. A step that
# raises is logged and makes the run partial; it never hides the build's result.
POST_BUILD: list[Callable[[BuildRun], None]] = []


# ---------------------------------------------------------------- steps


def _pull_onec(run: BuildRun) -> None:
    """The 1C pull, first of the run when SEGMART_ONEC_URL is set.

    A failed pull lands nothing (the marts keep the previous 1C data) and makes
    the run partial, with the reason in the summary and the alert; the inbox is
    landed and the marts are built as without it.
    """
    from segmart.onec import pull as onec_pull
    from segmart.onec import settings as onec_settings

    if not onec_settings.configured():
        return
    assert run.pg is not None
    try:
        result = onec_pull.pull(
            run.pg, onec_settings.load(), archive_dir=run.settings.archive_dir, before_insert=demo.remove_sample
        )
    except SegmartError as exc:
        log.error("1C pull failed: %s", exc)
        run.record.problems.append(f"1C pull failed: {exc}")
        return
    if result.load is not None:
        run.results.append(result.load)


def _land(run: BuildRun, *, sample: bool) -> None:
    pg, settings, record = run.pg, run.settings, run.record
    assert pg is not None
    if not sample:
        _pull_onec(run)
    scanned = inbox.scan(settings.inbox_dir, settings.rejected_dir)
    run.results += scanned.rejected
    pending = scanned.pending
    own = demo.own_data_landed(pg)
    if sample and own:
        raise SegmartError(
            "--sample: your own data has landed in this database, and the demo must never mix with it. "
            "Build the demo in a database of its own (SEGMART_PG_DBNAME=segmart_demo python3 run.py build --sample)."
        )
    if sample or (not any(pending.values()) and not own):
        log.info(
            "no own data yet (%s): showing the bundled demo data (generated once into %s). "
            "Put your exports into %s/sales/, %s/bank/ or %s/events/; the demo is removed automatically when your "
            "first file lands.",
            f"{len(scanned.rejected)} file(s) refused, see above" if scanned.rejected else "the inbox is empty",
            SAMPLE_DIR,
            settings.inbox_dir,
            settings.inbox_dir,
            settings.inbox_dir,
        )
        record.used_sample = True
        demo_files = sample_files()
        with progress.files(sum(map(len, demo_files.values()))) as bar:
            for path, formats in [(p, FORMATS_BY_KIND[kind]) for kind, paths in demo_files.items() for p in paths]:
                if bar is not None:
                    bar.file_started(path.name)
                results = load_files(pg, [path], formats, before_commit=demo.mark_sample)
                if bar is not None:
                    bar.file_done(sum(r.rows_loaded for r in results))
                run.results += results
        return
    if not any(pending.values()):
        log.info("no new files in %s; rebuilding the marts from what has landed", settings.inbox_dir)
    with progress.files(sum(map(len, pending.values()))) as bar:
        for kind, formats in inbox.FORMATS.items():
            for path in pending[kind]:  # one at a time: the bar moves with each file
                if bar is not None:
                    bar.file_started(path.name)
                results = load_files(pg, [path], formats, before_insert=demo.remove_sample)
                for result in results:
                    inbox.settle(result, kind, settings.archive_dir, settings.rejected_dir)
                    if bar is not None:
                        bar.file_done(result.rows_loaded)
                run.results += results


def _count_files(run: BuildRun) -> None:
    record = run.record
    for result in run.results:
        if result.status == "loaded":
            record.files_landed += 1
            record.rows_loaded += result.rows_loaded
            record.rows_quarantined += result.rows_quarantined
            if result.shrinkage:
                record.shrunk.append(f"{result.path.name}: {result.shrinkage.text()}")
        elif result.status == "duplicate":
            record.files_skipped += 1
        else:
            record.files_refused += 1
            record.refused.append(result.error or result.path.name)


def _build_marts(run: BuildRun) -> None:
    assert run.pg is not None
    settings, record = run.settings, run.record
    reason = demo.pending_full_refresh(run.pg)
    if reason and not record.full_refresh:
        log.info("full refresh of every model: %s", reason)
        record.full_refresh = True
    plan, _ = build_state.plan(run.pg, full_refresh=record.full_refresh)
    log.info("build: %s", plan.reason)
    if not plan.run_dbt:
        run.outcome = locks.DbtOutcome()
        return
    build_state.forget(run.pg)
    # unit tests are design checks for CI (the test suite runs them), not for the nightly job
    # the CLV marts read what the CLV step writes after this pass: they are built by it (_forecast_clv)
    extra = ["--exclude-resource-type", "unit_test", "--exclude", CLV_SELECTOR, *plan.exclude]
    outcome = locks.build(
        full_refresh=record.full_refresh,
        lock_timeout=settings.lock_timeout,
        retries=settings.lock_retries,
        retry_wait=settings.lock_retry_wait,
        extra_args=extra,
        mart_build_schema=publish.BUILD_SCHEMA,
    )
    run.outcome = outcome
    if outcome.returncode != 0:
        _ping(run.pg)  # a server that went away explains the failure better than dbt's node errors
    record.dbt_passed = outcome.count("success", "pass")
    record.dbt_warned = outcome.count("warn")
    record.dbt_failed = outcome.count("error", "fail", "runtime error")
    record.dbt_skipped = outcome.count("skipped")
    record.stale_marts = outcome.stale_marts()
    record.dbt_warnings = [
        _explain_warning(uid, outcome.messages.get(uid, ""), demo=record.used_sample)
        for uid, status in sorted(outcome.statuses.items())
        if status == "warn"
    ]
    blocked = outcome.lock_timeouts()
    if blocked:
        relations = [outcome.relations[uid] for uid in blocked if uid in outcome.relations]
        blockers = locks.describe_blockers(run.pg, relations)
        raise locks.LockGiveUp(
            f"The build gave up {outcome.lock_wait_seconds:.0f} s after it first waited for a lock "
            f"({outcome.attempts} attempts): "
            f"{', '.join('.'.join(r) for r in relations) or 'a relation'} stayed locked "
            f"{'by another session ' if blockers.outside else ''}"
            f"(lock timeout {settings.lock_timeout:g} s, {settings.lock_retries} retries). "
            + blockers.text
            + " Nothing was published: data_mart keeps the previous build, complete and readable."
            + (
                " Ask the user to close that session (or its open transaction) and run the build again."
                if blockers.outside
                else " Run the build again."
            )
        )
    if outcome.returncode not in (0, 1):
        raise SegmartError(
            f"dbt could not build the project (exit {outcome.returncode}; see the log above"
            f"{f', {record.log_file}' if record.log_file else ''}); data_mart keeps its previous tables."
        )
    if outcome.returncode != 0:
        # audit failed: publish nothing, so that no reader sees half a build or an untested mart
        unpublished = {f"{publish.LIVE_SCHEMA}.{mart.name}" for mart in publish.marts_of_run(outcome)}
        record.stale_marts = sorted(set(record.stale_marts) | unpublished)
        failures = publish.failed_tests(outcome)
        record.problems.append(
            "nothing was published, data_mart keeps the previous build"
            + (f"; failed: {'; '.join(failures)}" if failures else f"; not built: {', '.join(outcome.stale_marts())}")
        )
        return
    marts = publish.marts_of_run(outcome)
    clv_failed = False
    try:
        marts += _forecast_clv(run)  # the CLV marts, published in the same transaction
    except SegmartError as exc:
        clv_failed = True
        log.error("CLV: %s", exc)
        record.problems.append(f"CLV: {exc}; customer_clv, clv_model_fit, clv_holdout_check keep the previous build")
    _publish(run, marts)
    if not clv_failed:  # else the next build runs dbt (and the CLV step) again, whatever landed
        build_state.record(run.pg, build_state.current(run.pg))
    if reason:
        demo.clear_full_refresh(run.pg)


def _publish(run: BuildRun, marts: list[publish.Mart]) -> None:
    """Every mart of the run into data_mart in one transaction, then their keys and grants."""
    settings, record = run.settings, run.record
    assert run.conn_info is not None
    try:
        result = publish.publish(
            run.conn_info,
            marts,
            lock_timeout=settings.lock_timeout,
            retries=settings.lock_retries,
            retry_wait=settings.lock_retry_wait,
            run_id=record.run_id,
        )
    except locks.LockGiveUp:
        record.stale_marts = sorted(f"{publish.LIVE_SCHEMA}.{mart.name}" for mart in marts)
        raise
    record.published_marts = len(result.marts)
    record.publish_lock_seconds = result.lock_held_seconds
    if marts and locks.run_dbt(
        # its own target folder: target/run_results.json stays the build's (what `dbt retry` and people read)
        ["run-operation", "segmart_after_publish", "--target-path", str(locks.target_path() / "after_publish")],
        lock_timeout=settings.lock_timeout,
    ):
        record.problems.append(
            "the new marts are published, but their foreign keys or BI grants could not be finished "
            "(see the log); the next build adds them"
        )


# Warnings the demo causes on purpose: (words in the test's id) -> why
DEMO_WARNINGS = {
    ("relationships", "bank_product_usage", "client_id"): (
        "expected on the demo: it plants usage rows of clients missing from clients.csv, "
        "listed in data_mart.bank_unknown_client_usage"
    ),
}


def _explain_warning(uid: str, message: str, *, demo: bool) -> str:
    """One line per dbt warning: the test, dbt's message, and why when the demo plants it."""
    name = uid.split(".")[2] if uid.count(".") >= 2 else uid
    why = next((text for words, text in DEMO_WARNINGS.items() if demo and all(w in uid for w in words)), None)
    return f"{name}: {message or 'warn'}" + (f" ({why})" if why else "")


def _check_freshness(run: BuildRun) -> None:
    assert run.pg is not None
    run.record.stale_sources = freshness.stale_sources(run.pg, lock_timeout=run.settings.lock_timeout)
    run.record.anomalies = freshness.latest_day_anomalies(run.pg)


CLV_SELECTOR = "source:clv+"  # the models downstream of what segmart/clv writes


def _forecast_clv(run: BuildRun) -> list[publish.Mart]:
    """Fit BG/NBD + Gamma-Gamma per source, then build the CLV marts beside the others (a second dbt pass).

    Runs after the first pass passed its tests and before the publication, so the CLV marts
    read this run's customer_rfm (in the build schema) and are published with it. Returns the
    marts to publish; raises SegmartError when the step or its dbt pass failed.
    """
    from segmart.clv import job

    assert run.pg is not None
    try:
        fits = job.run(run.pg)
    except psycopg2.Error as exc:
        run.pg.rollback()
        raise SegmartError(f"the CLV step could not read the calibration summary or write schema clv: {exc}") from exc
    not_fitted = [f"{f['source_system']} ({f['fit_scope']}): {f['fit_message']}" for f in fits if f["fit_message"]]
    if not_fitted:
        log.warning("CLV fits with a model missing (see clv_model_fit): %s", "; ".join(not_fitted))
    settings, record = run.settings, run.record
    outcome = locks.build(
        full_refresh=record.full_refresh,
        lock_timeout=settings.lock_timeout,
        retries=settings.lock_retries,
        retry_wait=settings.lock_retry_wait,
        extra_args=["--select", CLV_SELECTOR, "--exclude-resource-type", "unit_test"],
        mart_build_schema=publish.BUILD_SCHEMA,
    )
    record.dbt_passed += outcome.count("success", "pass")
    record.dbt_warned += outcome.count("warn")
    record.dbt_failed += outcome.count("error", "fail", "runtime error")
    record.dbt_skipped += outcome.count("skipped")
    if outcome.returncode != 0:
        failures = publish.failed_tests(outcome)
        record.stale_marts = sorted(set(record.stale_marts) | set(outcome.stale_marts()))
        raise SegmartError(
            f"the CLV marts were not built (dbt exit {outcome.returncode}"
            + (f"; failed: {'; '.join(failures)}" if failures else "")
            + "; see the log)"
        )
    return publish.marts_of_run(outcome)


def _write_report(run: BuildRun) -> None:
    """The manager report and segment lists, once every mart is fresh (a post-build step)."""
    import psycopg2

    from segmart.report import run_report
    from segmart.report.files import DEMO_FOLDER

    if run.report is None:
        return
    if run.outcome is None or run.outcome.returncode != 0:
        log.warning("manager report not written: some marts are stale (see the summary)")
        return
    assert run.pg is not None
    settings = run.report
    demo_dir = settings.out_dir / DEMO_FOLDER
    if run.record.used_sample:
        # the demo's files apart, so that no demo report passes for the user's newest one
        settings = dataclasses.replace(settings, out_dir=demo_dir)
    elif demo_dir.is_dir():
        shutil.rmtree(demo_dir)
        log.info("removed the demo's report and lists (%s): your own data replaced the demo", demo_dir)
    try:
        run.report_files = run_report(run.pg, settings)
    except (OSError, psycopg2.Error) as exc:
        run.pg.rollback()
        raise SegmartError(f"the marts were built, but the report could not be written: {exc}") from exc


POST_BUILD.append(_write_report)


def _mart_counts(conn: psycopg2.extensions.connection) -> list[tuple[str, str, int | None]]:
    """Exact row counts of the data_mart tables (views are listed without a count)."""
    from psycopg2 import sql

    with conn.cursor() as cur:
        cur.execute(
            """
            select table_name, table_type from information_schema.tables
            where table_schema = 'data_mart' order by table_name
            """
        )
        listing = cur.fetchall()
        out: list[tuple[str, str, int | None]] = []
        for name, kind in listing:
            if kind == "VIEW":
                out.append((name, "view", None))
                continue
            cur.execute(sql.SQL("select count(*) from data_mart.{}").format(sql.Identifier(name)))
            out.append((name, "table", cur.fetchone()[0]))
    conn.rollback()
    return out


def _log_connect_help(run: BuildRun) -> None:
    assert run.pg is not None and run.conn_info is not None
    conn_info = run.conn_info
    lines = [
        f"  data_mart.{name:<34} {kind:<5} " + (f"{rows:>10,} rows" if rows is not None else "")
        for name, kind, rows in _mart_counts(run.pg)
    ]
    where = "embedded PostgreSQL (stop it with `python3 run.py db stop`)" if conn_info.embedded else "configured server"
    log.info(
        "\nBuilt on the %s:\n%s\n\nConnect: %s (password: DBT_ENV_SECRET_PG_PASSWORD in .env or %s)\n"
        '  psql "%s" -c "select * from data_mart.rfm_segment_summary"\n'
        "  Power BI: `python3 run.py bi pbids` (server %s:%d, database %s), then `python3 run.py bi add-user NAME`\n"
        "  for a login in the read-only role %r; `bi info` for DataLens, Metabase, Superset.\n"
        "  dbt by hand: source .venv/bin/activate && dbt build%s",
        where,
        "\n".join(lines),
        conn_info.url(),
        ".segmart/embedded.env" if conn_info.embedded else "your environment",
        conn_info.url(),
        conn_info.host,
        conn_info.port,
        conn_info.dbname,
        bi_role(),
        "".join(f"\n  manager report: {p}" for p in run.report_files if p.suffix == ".html"),
    )


def _summary(record: runlog.RunRecord) -> str:
    lines = [
        f"status: {record.status} (exit {record.exit_code}) in {record.duration:.0f} s"
        + (" — full refresh" if record.full_refresh else "")
        + (" — demo data" if record.used_sample else ""),
        f"files: {record.files_landed} landed, {record.files_skipped} already landed, {record.files_refused} refused; "
        f"rows: {record.rows_loaded:,} loaded, {record.rows_quarantined:,} quarantined",
        f"dbt: {record.dbt_passed} passed, {record.dbt_warned} warned, {record.dbt_failed} failed, "
        f"{record.dbt_skipped} skipped",
    ]
    lines += [f"dbt warning: {text}" for text in record.dbt_warnings]
    if record.published_marts is not None:
        lines.append(
            f"published: {record.published_marts} marts into data_mart in one transaction "
            f"(locks held {record.publish_lock_seconds or 0:.2f} s)"
        )
    if record.refused:
        lines.append("refused files: " + "; ".join(record.refused))
    lines.append("documents made smaller by a newer load: " + ("; ".join(record.shrunk) if record.shrunk else "none"))
    lines.append("stale marts: " + (", ".join(record.stale_marts) if record.stale_marts else "none"))
    lines.append("stale sources: " + ("; ".join(record.stale_sources) if record.stale_sources else "none"))
    lines.append("anomalies of the latest day: " + ("; ".join(record.anomalies) if record.anomalies else "none"))
    if record.error_text:
        lines.append(("problems: " if record.exit_code == EXIT_PARTIAL else "error: ") + record.error_text)
    if record.log_file:
        lines.append(f"log: {record.log_file}")
    return "\n".join(lines)


def _alert(run: BuildRun) -> None:
    settings, record = run.settings, run.record
    failed = record.exit_code not in (EXIT_OK,)
    # documents that shrank are worth a message even when alerts go out on failure only
    if not settings.alert_urls or not alerts.should_send(settings.alert_on, failed or bool(record.shrunk)):
        return
    title = (
        f"segmart build {record.status}"
        + (f" (exit {record.exit_code})" if failed else "")
        + (f": {len(record.shrunk)} load(s) made documents smaller" if record.shrunk else "")
    )
    alerts.send(
        settings.alert_urls,
        title=title,
        body=_summary(record),
        failed=failed,
        attachment=record.log_file if failed else None,
    )


# ---------------------------------------------------------------- the job


def _run(run: BuildRun, *, sample: bool, land_only: bool) -> None:
    run.conn_info = db.resolve()
    run.pg = db.connect(run.conn_info)
    try:
        with run_lock(run.pg, wait=run.settings.run_wait):
            runlog.ensure_schema(run.pg)
            runlog.start(run.pg, run.record)
            try:
                _land(run, sample=sample)
                _count_files(run)
                if land_only:
                    _finish(
                        run,
                        EXIT_PARTIAL if run.record.files_refused or run.record.problems else EXIT_OK,
                        "; ".join(run.record.problems) or None,
                    )
                    return
                _build_marts(run)
                _check_freshness(run)
                for step in POST_BUILD:
                    name = getattr(step, "__name__", repr(step)).lstrip("_")
                    try:
                        step(run)
                    except SegmartError as exc:
                        log.error("post-build step %s: %s", name, exc)
                        run.record.problems.append(f"{name}: {exc}")
                    except Exception as exc:  # a post-build step never hides the build's result
                        log.exception("post-build step %s failed", name)
                        run.record.problems.append(f"{name}: {type(exc).__name__}: {exc}")
                _log_connect_help(run)
                _finish(
                    run,
                    EXIT_PARTIAL
                    if run.record.files_refused
                    or run.record.dbt_failed
                    or run.record.dbt_skipped
                    or run.record.stale_marts
                    or run.record.problems
                    else EXIT_OK,
                    "; ".join(run.record.problems) or None,
                )
            except locks.LockGiveUp as exc:
                _finish(run, EXIT_LOCKED, str(exc))
            except SegmartError as exc:
                _finish(run, EXIT_ERROR, str(exc))
            except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
                _finish(run, EXIT_ERROR, _lost_database(exc))
            finally:
                if run.record.exit_code is None:  # an unexpected exception: still record it
                    _finish(run, EXIT_ERROR, "the build stopped on an unexpected error (see the log)")
    finally:
        run.pg.close()


def _finish(run: BuildRun, code: int, error: str | None = None) -> None:
    record = run.record
    record.exit_code = code
    record.status = STATUS_OF_EXIT[code]
    record.error_text = error
    if error and code != EXIT_PARTIAL:
        log.error("error: %s", error)
    if run.pg is not None and record.run_id is not None:
        try:
            runlog.finish(run.pg, record)
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
            log.warning(
                "the run's result could not be recorded (%s); the next build records this run as aborted",
                first_line(exc),
            )


def _ping(pg: psycopg2.extensions.connection) -> None:
    """Raise psycopg2.OperationalError when the database is gone."""
    with pg.cursor() as cur:
        cur.execute("select 1")
    pg.rollback()


def _lost_database(exc: BaseException) -> str:
    return (
        f"the connection to the database was lost during the build ({first_line(exc)}): the server stopped "
        "or became unreachable. Nothing was published: data_mart keeps the previous build. Start the database "
        "(`python3 run.py db start`, or your server) and run the build again."
    )


def build(
    *,
    sample: bool = False,
    full_refresh: bool = False,
    land_only: bool = False,
    report: ReportSettings | None = None,
) -> int:
    """The main job; returns its exit code (EXIT_*). A refused file never stops the others.

    ``land_only``: load the inbox (archive / reject its files) and record the run, without dbt.
    ``report``: settings of the manager report, written after the marts (when all are fresh).
    """
    try:
        settings = ops_settings.load()
    except SegmartError as exc:
        log.error("error: %s", exc)
        return EXIT_ERROR
    import os

    record = runlog.RunRecord(full_refresh=full_refresh)
    record.log_file, handler = runlog.open_log_file(settings.log_dir, settings.log_keep_days)
    from segmart.onec.client import secrets_from_env

    runlog.install_secret_filter(
        [os.environ.get(PASSWORD_VAR, ""), *settings.alert_urls, *_url_secrets(settings), *secrets_from_env()],
        handler,
    )
    logging.getLogger("segmart").addHandler(handler)
    run = BuildRun(settings=settings, record=record, report=report)
    started = time.perf_counter()
    try:
        try:
            _run(run, sample=sample, land_only=land_only)
        except RunInProgress as exc:
            log.error("error: %s", exc)
            record.exit_code, record.status, record.error_text = EXIT_RUNNING, "not run", str(exc)
        except SegmartError as exc:  # before the run lock: no database, bad configuration
            log.error("error: %s", exc)
            record.exit_code, record.status, record.error_text = EXIT_ERROR, "failed", str(exc)
        except Exception as exc:  # a bug or an unforeseen failure: still exit 2, logged and alerted
            log.exception("the build stopped on an unexpected error")
            record.exit_code, record.status = EXIT_ERROR, "failed"
            record.error_text = f"unexpected error: {type(exc).__name__}: {exc}"
        log.info("%s", _summary(record))
        log.info("done in %.0f s, exit code %d", time.perf_counter() - started, record.exit_code)
        _alert(run)
    finally:
        logging.getLogger("segmart").removeHandler(handler)
        handler.close()
    return int(record.exit_code if record.exit_code is not None else EXIT_ERROR)


def _url_secrets(settings: ops_settings.Settings) -> list[str]:
    """The credential parts of the alert URLs (tokens, passwords), filtered out of the logs too."""
    from urllib.parse import unquote, urlsplit

    out: list[str] = []
    for url in settings.alert_urls:
        parts = urlsplit(url)
        out += [unquote(p) for p in (parts.username, parts.password) if p]
        out += [segment for segment in parts.path.split("/") if len(segment) >= 12]
        if parts.scheme in {"tgram", "discord", "slack"}:
            out.append(parts.netloc)
    return out
