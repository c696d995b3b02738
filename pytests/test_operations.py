"""Daily operation: one run at a time, inbox lifecycle, run log, lock handling, readers, alerts.

Every test runs ``segmart`` as an operator would (a subprocess), against the
test database, with the inbox, archive, rejected and log folders in a tmp dir.
The tests that share the module's built database run first; the demo tests,
which reset the database, come last (see test_operations_demo.py).
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import re
import signal
import time
from pathlib import Path

import psycopg2
import pytest

from pytests.support.db import mart_checksums, reset_database, rows, scalar
from pytests.support.ops import (
    Folders,
    Readers,
    Stub,
    closed_port,
    ensure_reader_role,
    generate_bank,
    generate_sales,
    reader_connection,
    segmart,
    segmart_background,
)

log = logging.getLogger("pytests.ops")  # figures: run with -o log_cli=true --log-cli-level=INFO

LOCK_TIMEOUT = 1.0
LOCK_RETRIES = 1
LOCK_RETRY_WAIT = 1.0


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> Folders:
    return Folders(tmp_path_factory.mktemp("ops"))


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ops-inputs")
    generate_sales(out / "shop_2011_01.csv", rows=5000, seed=101)
    generate_sales(out / "shop_2011_08.csv", rows=1500, seed=102, start="2011-08-01")
    generate_sales(out / "shop_2011_09.csv", rows=1500, seed=103, start="2011-09-01")
    generate_bank(out / "bank", seed=104)
    return out


@pytest.fixture(scope="module")
def built(connection_info, folders: Folders, inputs: Path) -> Folders:
    """A database built from own files (no demo): the state a daily run starts from."""
    import psycopg2

    pg = psycopg2.connect(**connection_info.dsn_kwargs())
    try:
        reset_database(pg)
        ensure_reader_role(pg)
    finally:
        pg.close()
    folders.drop("sales", inputs / "shop_2011_01.csv")
    folders.drop("bank", inputs / "bank" / "clients.csv")
    folders.drop("bank", inputs / "bank" / "product_usage.csv")
    result = segmart(folders, "build")
    assert result.returncode == 0, result.stderr[-4000:]
    return folders


def mart_relations(pg) -> list[str]:
    return [n for (n,) in rows(pg, "select table_name from information_schema.tables where table_schema = 'data_mart'")]


def last_run(pg) -> dict:
    with pg.cursor() as cur:
        cur.execute("select * from data_mart.build_runs order by run_id desc limit 1")
        names = [d[0] for d in cur.description]
        values = cur.fetchone()
    pg.commit()
    return dict(zip(names, values, strict=True))


# ---------------------------------------------------------------- inbox lifecycle and run log


@pytest.mark.slow
def test_first_build_archives_the_inbox_and_records_a_successful_run(built: Folders, pg) -> None:
    assert not list(built.inbox.rglob("*.csv")), "landed files must leave the inbox"
    archived = sorted(p.relative_to(built.archive).as_posix() for p in built.archive.rglob("*.csv"))
    day = archived[0].split("/", 1)[0]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", day)
    assert archived == [f"{day}/bank/clients.csv", f"{day}/bank/product_usage.csv", f"{day}/sales/shop_2011_01.csv"]
    run = last_run(pg)
    assert run["run_status"] == "success" and run["exit_code"] == 0
    assert (run["files_landed"], run["files_refused"], run["rows_loaded"]) == (3, 0, 5000 + 400 + 3000)
    assert run["dbt_nodes_passed"] > 300 and run["dbt_nodes_failed"] == 0
    assert not run["used_sample_data"]
    assert scalar(pg, "select count(*) from ops.sample_loads") == 0
    logs = list(built.logs.glob("build-*.log"))
    assert len(logs) == 1 and "exit code 0" in logs[0].read_text()


@pytest.mark.slow
def test_kill_before_commit_and_between_commit_and_move_lose_nothing_and_count_once(
    built: Folders, inputs: Path, pg, tmp_path: Path
) -> None:
    big = generate_sales(tmp_path / "big_2011_10.csv", rows=300_000, customers=2000, seed=105, start="2011-10-01")
    inboxed = built.drop("sales", big)
    # 1. killed while the load runs (before its commit): nothing landed, the file stays
    process = segmart_background(built, "land")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        copying = scalar(pg, "select count(*) from pg_stat_activity where query ilike %s", ("copy %sales_uci_lines%",))
        if copying:
            break
        time.sleep(0.05)
    assert copying, "the load never started"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert inboxed.is_file()
    assert scalar(pg, "select count(*) from staging.load_batches where file_name = %s", (big.name,)) == 0
    # 2. committed but not moved (what a kill right after the commit leaves): land
    # it with the plain loader, which never moves files, then run the inbox step
    loaded = segmart(built, "sales", str(inboxed))
    assert loaded.returncode == 0, loaded.stderr
    assert inboxed.is_file()
    result = segmart(built, "land")
    assert result.returncode == 0, result.stderr
    assert "skipped, identical content already landed" in result.stderr
    assert not inboxed.exists()
    assert len(list(built.archive.rglob(big.name))) == 1
    assert scalar(pg, "select count(*) from staging.load_batches where file_name = %s", (big.name,)) == 1
    assert scalar(
        pg,
        "select count(*) from staging.sales_uci_lines where load_id = "
        "(select load_id from staging.load_batches where file_name = %s)",
        (big.name,),
    ) == scalar(pg, "select rows_loaded from staging.load_batches where file_name = %s", (big.name,))
    # 3. re-sent under another name: recognised by its content hash, archived, not counted again
    built.drop("sales", big, name="resent_big.csv")
    again = segmart(built, "land")
    assert again.returncode == 0 and "skipped, identical content already landed" in again.stderr
    assert (
        scalar(
            pg,
            "select count(*) from staging.load_batches where file_sha256 = "
            "(select file_sha256 from staging.load_batches where file_name = %s)",
            (big.name,),
        )
        == 1
    )
    assert len(list(built.archive.rglob("resent_big.csv"))) == 1


@pytest.mark.slow
def test_refused_file_goes_to_rejected_the_rest_builds_partial_and_alerts_reach_the_stub(
    built: Folders, inputs: Path, pg
) -> None:
    bad = built.inbox / "sales" / "garbage.csv"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_text("this,is,not\na,sales,export\n", encoding="utf-8")
    good = built.drop("sales", inputs / "shop_2011_08.csv")
    secret = "s3cr3t-alert-token-9f2"
    with Stub() as stub:
        urls = f"json://ops:{secret}@127.0.0.1:{stub.port}/hook json://127.0.0.1:{closed_port()}/down"
        result = segmart(built, "build", SEGMART_ALERT_URLS=urls, SEGMART_ALERT_ON="always")
    assert result.returncode == 1, result.stderr[-3000:]
    rejected = built.rejected / "sales" / "garbage.csv"
    assert rejected.is_file() and not bad.exists() and not good.exists()
    reason = Path(str(rejected) + ".reason.txt").read_text()
    assert "garbage.csv" in reason and "refused" in reason
    run = last_run(pg)
    assert run["run_status"] == "partial" and run["exit_code"] == 1
    assert (run["files_landed"], run["files_refused"]) == (1, 1)
    assert run["stale_marts"] is None, "a refused file must not stop the marts"
    # the reachable stub got the failure paragraph and the run's log attached; the other target is down
    assert len(stub.received) == 1
    message = stub.received[0]
    assert message["_path"] == "/hook" and message["_authorization"].startswith("Basic ")
    assert "partial" in message["title"] and "garbage.csv" in message["message"]
    attachment = message["attachments"][0]
    log_text = base64.b64decode(attachment["base64"]).decode("utf-8")
    assert "garbage.csv" in log_text and "$ dbt build" in log_text
    assert "could not be delivered (the build result is unchanged)" in result.stderr
    # secrets: neither the alert token nor the database password in any output or log
    password = os.environ.get("DBT_ENV_SECRET_PG_PASSWORD", "")
    for text in (result.stderr, result.stdout, *(p.read_text() for p in built.logs.glob("*.log"))):
        assert secret not in text
        assert not password or password not in text


@pytest.mark.slow
def test_failed_build_is_recorded_and_alerted_with_the_log(built: Folders, pg) -> None:
    with Stub() as stub:
        result = segmart(
            built,
            "build",
            "--full-refresh",  # dbt must run (with nothing new the build skips it)
            SEGMART_DBT_THREADS="many",  # dbt cannot read its profile: a build error
            SEGMART_ALERT_URLS=f"json://127.0.0.1:{stub.port}/fail",
        )
    assert result.returncode == 2, result.stderr[-3000:]
    assert "dbt could not build the project" in result.stderr
    run = last_run(pg)
    assert run["run_status"] == "failed" and run["exit_code"] == 2
    assert "dbt could not build" in run["error_text"]
    assert len(stub.received) == 1 and stub.received[0]["type"] == "failure"
    attached = base64.b64decode(stub.received[0]["attachments"][0]["base64"]).decode()
    assert "dbt could not build the project" in attached
    statuses = [s for (s,) in rows(pg, "select run_status from data_mart.build_runs order by run_id")]
    assert {"success", "partial", "failed"} <= set(statuses)


@pytest.mark.slow
def test_freshness_warns_per_source_on_the_load_time(built: Folders, pg) -> None:
    fresh = segmart(built, "freshness", SEGMART_FRESHNESS_WARN_HOURS="48")
    assert fresh.returncode == 0 and "stale sources: none" in fresh.stderr
    saved = rows(pg, "select load_id, loaded_at from staging.load_batches")
    with pg.cursor() as cur:
        cur.execute(
            "update staging.load_batches set loaded_at = loaded_at - interval '5 days' "
            "where target in ('sales_uci_lines', 'sales_onec_lines')"
        )
    pg.commit()
    try:
        stale = segmart(built, "freshness", SEGMART_FRESHNESS_WARN_HOURS="48")
        assert stale.returncode == 1, stale.stderr[-2000:]
        assert re.search(r"sales: no new load for 12\d h", stale.stderr)
        assert "bank:" not in stale.stderr.split("stale sources:")[-1]
        relaxed = segmart(built, "freshness", SEGMART_FRESHNESS_WARN_HOURS="200")
        assert relaxed.returncode == 0
    finally:
        with pg.cursor() as cur:
            for load_id, loaded_at in saved:
                cur.execute("update staging.load_batches set loaded_at = %s where load_id = %s", (loaded_at, load_id))
        pg.commit()


# ---------------------------------------------------------------- readers, locks, concurrency


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["daily", "full_refresh"])
def test_bi_readers_never_fail_during_a_build(built: Folders, connection_info, pg, mode: str, tmp_path: Path) -> None:
    # new data, so that the daily build has work to do (with nothing new it skips dbt)
    seed = 301 if mode == "daily" else 302
    built.drop("sales", generate_sales(tmp_path / f"daily_{seed}.csv", rows=500, seed=seed, start="2011-07-01"))
    relations = mart_relations(pg)
    assert "sales_lines" in relations and "build_runs" in relations
    args = ["build", "--full-refresh"] if mode == "full_refresh" else ["build"]
    with Readers(connection_info, relations, threads=3) as readers:
        time.sleep(0.5)
        result = segmart(built, *args)
    assert result.returncode in (0, 1), result.stderr[-3000:]
    summary = result.stderr.split("status:")[-1]
    assert " 0 failed, 0 skipped" in summary, summary
    stats = readers.stats
    log.info(f"readers during {mode} build: {stats.ok} ok, {len(stats.errors)} errors, longest {stats.longest:.2f} s")
    assert stats.ok > 200
    assert stats.errors == []


@pytest.mark.slow
def test_held_read_transaction_makes_the_build_give_up_naming_the_session(
    built: Folders, inputs: Path, connection_info, pg
) -> None:
    before = mart_checksums(pg, ["customer_rfm", "rfm_segment_summary"])
    built.drop("sales", inputs / "shop_2011_09.csv")  # new data: customer_rfm would change
    blocker = reader_connection(connection_info, application="Power BI Desktop")
    blocker.autocommit = False
    blocker_pid = blocker.get_backend_pid()
    with blocker.cursor() as cur:
        cur.execute("select count(*) from data_mart.customer_rfm")
        cur.fetchone()
    try:
        with Readers(connection_info, ["customer_rfm"], threads=2) as readers:
            started = time.monotonic()
            result = segmart(
                built,
                "build",
                SEGMART_LOCK_TIMEOUT=str(LOCK_TIMEOUT),
                SEGMART_LOCK_RETRIES=str(LOCK_RETRIES),
                SEGMART_LOCK_RETRY_WAIT=str(LOCK_RETRY_WAIT),
            )
            elapsed = time.monotonic() - started
    finally:
        blocker.rollback()
        blocker.close()
    assert result.returncode == 3, result.stderr[-4000:]
    paragraph = next(line for line in result.stderr.splitlines() if line.startswith("error: The build gave up"))
    assert f"session pid {blocker_pid}" in paragraph
    assert "user ops_test_reader" in paragraph and "'Power BI Desktop'" in paragraph
    assert "select count(*) from data_mart.customer_rfm" in paragraph
    assert f"select pg_terminate_backend({blocker_pid});" in paragraph
    assert "data_mart.customer_rfm" in paragraph
    waited = float(re.search(r"gave up (\d+) s after it first waited for a lock \(2 attempts\)", paragraph).group(1))
    log.info(f"gave up {waited:.0f} s after first waiting for the lock; whole build {elapsed:.0f} s")
    # bound: 2 x 1 s lock timeout + 1 s between attempts + the start-up of the second dbt run
    # (~10 s on a quiet machine, up to ~40 s measured on a shared 2-core box under load)
    assert LOCK_TIMEOUT * 2 + LOCK_RETRY_WAIT <= waited < LOCK_TIMEOUT * 2 + LOCK_RETRY_WAIT + 60
    # the previous marts are intact and were readable all along, without waiting behind the build
    assert mart_checksums(pg, ["customer_rfm", "rfm_segment_summary"]) == before
    assert readers.stats.errors == []
    assert readers.stats.ok > 20
    log.info(f"readers behind the blocked build: {readers.stats.ok} ok, longest wait {readers.stats.longest:.2f} s")
    assert readers.stats.longest < LOCK_TIMEOUT + 1.0
    run = last_run(pg)
    assert run["run_status"] == "locked_out" and run["exit_code"] == 3
    assert "data_mart.customer_rfm" in run["stale_marts"]
    # once the session is gone the next run goes through
    again = segmart(built, "build")
    assert again.returncode == 0, again.stderr[-3000:]
    assert mart_checksums(pg, ["customer_rfm"]) != {"customer_rfm": before["customer_rfm"]}


@pytest.mark.slow
def test_a_full_refresh_slower_than_the_lock_timeout_never_waits_on_its_own_locks(built: Folders, pg) -> None:
    """Marts that declare keys to dim_date used to queue on it behind each other: with a lock
    timeout shorter than a mart's build, a full refresh failed on segmart's own lock."""
    result = segmart(built, "build", "--full-refresh", SEGMART_LOCK_TIMEOUT="0.1", SEGMART_LOCK_RETRIES="0")
    assert result.returncode == 0, result.stderr[-4000:]
    assert "lock timeout" not in result.stderr
    # the keys are still there, validated, under PostgreSQL's default names
    keys = rows(
        pg,
        "select conrelid::regclass::text, conname, convalidated from pg_constraint "
        "where contype = 'f' and connamespace = 'data_mart'::regnamespace",
    )
    assert ("data_mart.monthly_kpis", "monthly_kpis_month_start_fkey", True) in keys
    assert ("data_mart.client_cross_sell", "client_cross_sell_client_id_fkey", True) in keys
    assert all(valid for *_rest, valid in keys)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("relation", "seed"),
    [
        # a BI session on a live mart: the build is done in data_mart_build, the publication waits
        ("data_mart.customer_rfm", 107),
        # an administrator's session on a table the build replaces: dbt itself waits, and `dbt retry`
        ("intermediate.int_sales_as_of_dates_derived", 110),
    ],
)
def test_a_lock_released_between_retries_lets_the_build_finish(
    built: Folders, connection_info, pg, tmp_path: Path, relation: str, seed: int
) -> None:
    """An outside session holds a relation for about 1.5 retry waits, then lets go: the
    retry (``dbt retry``, which finds the previous run, or the publication's) gets through,
    the marts are refreshed and the build exits 0."""
    retry_wait = 4.0
    before = mart_checksums(pg, ["customer_rfm"])
    built.drop("sales", generate_sales(tmp_path / f"shop_{seed}.csv", rows=800, seed=seed, start="2011-10-01"))
    if relation.startswith("data_mart."):
        blocker = reader_connection(connection_info, application="Power BI Desktop")
    else:
        blocker = psycopg2.connect(**{**connection_info.dsn_kwargs(), "application_name": "DBeaver"})
    blocker.autocommit = False
    with blocker.cursor() as cur:
        cur.execute(f"select count(*) from {relation}")
        cur.fetchone()
    released: list[float] = []

    def release_after_first_wait() -> None:
        # the owner, who can see every schema (the BI role cannot even name intermediate's tables)
        watcher = psycopg2.connect(**{**connection_info.dsn_kwargs(), "application_name": "ops-test watcher"})
        watcher.autocommit = True  # pg_stat_activity stays the same within one transaction
        try:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                with watcher.cursor() as cur:
                    cur.execute(
                        "select count(*) from pg_locks as l inner join pg_stat_activity as a on a.pid = l.pid "
                        "where not l.granted and l.relation = %s::regclass "
                        "and a.application_name like 'segmart-dbt-%%'",
                        (relation,),
                    )
                    (waiting,) = cur.fetchone()
                if waiting:
                    break
                time.sleep(0.05)
            time.sleep(1.5 * retry_wait)
        finally:
            blocker.rollback()
            blocker.close()
            watcher.close()
            released.append(time.monotonic())

    import threading

    releaser = threading.Thread(target=release_after_first_wait, daemon=True)
    releaser.start()
    result = segmart(
        built,
        "build",
        SEGMART_LOCK_TIMEOUT="1",
        SEGMART_LOCK_RETRIES="4",
        SEGMART_LOCK_RETRY_WAIT=str(retry_wait),
    )
    releaser.join(timeout=30)
    assert released, "the blocker was never released"
    assert result.returncode == 0, result.stderr[-4000:]
    retries = re.findall(r"lock timeout \(1\.0 s\) on ([^:]+): still locked; attempt (\d) of 5", result.stderr)
    assert 1 <= len(retries) <= 2, result.stderr[-4000:]
    assert all(relation in names for names, _attempt in retries)
    assert "Could not find previous run" not in result.stderr + result.stdout
    if relation.startswith("intermediate."):
        assert "$ dbt retry" in result.stderr
    assert mart_checksums(pg, ["customer_rfm"]) != before
    run = last_run(pg)
    assert run["run_status"] == "success" and run["exit_code"] == 0 and not run["stale_marts"]


PUBLISHED_TOGETHER = ["customer_rfm", "rfm_segment_summary", "monthly_kpis", "sales_lines", "sales_line_audit"]


@pytest.mark.slow
def test_a_failing_data_test_publishes_nothing_and_the_alert_names_the_test_and_the_mart(
    built: Folders, pg, tmp_path: Path
) -> None:
    before = mart_checksums(pg, PUBLISHED_TOGETHER)
    built.drop("sales", generate_sales(tmp_path / "shop_2011_12.csv", rows=600, seed=108, start="2011-12-01"))
    # a load whose batch claims one line more than staging holds (a line lost behind the loader's
    # back): the audit's "every staged line is classified" test on sales_line_audit fails
    tampered = (
        "update staging.load_batches set rows_read = rows_read + %s, rows_loaded = rows_loaded + %s where load_id = %s"
    )
    first_load = scalar(pg, "select min(load_id) from staging.load_batches where target = 'sales_uci_lines'")
    with pg.cursor() as cur:
        cur.execute(tampered, (1, 1, first_load))
    pg.commit()
    try:
        with Stub() as stub:
            result = segmart(built, "build", SEGMART_ALERT_URLS=f"json://127.0.0.1:{stub.port}/audit")
    finally:
        with pg.cursor() as cur:
            cur.execute(tampered, (-1, -1, first_load))
        pg.commit()
    assert result.returncode == 1, result.stderr[-4000:]
    summary = result.stderr.split("status:")[-1]
    assert "nothing was published, data_mart keeps the previous build" in summary, summary
    assert re.search(r"failed: expression_is_true_sales_line_audit\S* on sales_line_audit \(fail\)", summary), summary
    # every mart is exactly the previous build, though the run built new ones beside them
    assert mart_checksums(pg, PUBLISHED_TOGETHER) == before
    assert scalar(pg, "select count(*) from data_mart_build.customer_rfm") > 0
    assert len(stub.received) == 1
    assert "expression_is_true_sales_line_audit" in stub.received[0]["message"]
    assert "nothing was published" in stub.received[0]["message"]
    run = last_run(pg)
    assert run["run_status"] == "partial" and run["exit_code"] == 1
    assert "data_mart.customer_rfm" in run["stale_marts"]
    # with the batch record right again, the next build publishes the new file
    again = segmart(built, "build")
    assert again.returncode == 0, again.stderr[-4000:]
    after = mart_checksums(pg, PUBLISHED_TOGETHER)
    assert after["customer_rfm"] != before["customer_rfm"] and after["sales_lines"] != before["sales_lines"]


@pytest.mark.slow
def test_readers_in_one_transaction_never_see_marts_of_two_builds(
    built: Folders, connection_info, pg, tmp_path: Path
) -> None:
    """A reader loops over one repeatable-read transaction during a build that lands new data:
    customer_rfm must agree with rfm_segment_summary, and monthly_kpis with sales_lines, every time."""
    import threading

    built.drop("sales", generate_sales(tmp_path / "shop_2012_01.csv", rows=2000, seed=109, start="2012-01-02"))
    stop = threading.Event()
    reads: list[tuple] = []
    mixed: list[tuple] = []
    errors: list[str] = []

    def read_in_a_loop() -> None:
        conn = reader_connection(connection_info, application="ops-test consistency reader")
        conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
        queries = [
            "select source_system, count(*) from data_mart.customer_rfm group by 1",
            "select source_system, sum(customers) from data_mart.rfm_segment_summary group by 1",
            "select source_system, round(sum(revenue), 2) from data_mart.monthly_kpis group by 1",
            "select source_system, round(sum(net_amount), 2) from data_mart.sales_lines group by 1",
        ]
        try:
            while not stop.is_set():
                try:
                    with conn.cursor() as cur:
                        seen = []
                        for query in queries:
                            cur.execute(query)
                            seen.append(dict(cur.fetchall()))
                    conn.commit()
                except psycopg2.Error as exc:
                    conn.rollback()
                    errors.append(str(exc).strip())
                    continue
                rfm, summary, kpis, lines = seen
                state = (tuple(sorted(rfm.items())), tuple(sorted(kpis.items())))
                reads.append(state)
                if {k: int(v) for k, v in summary.items()} != rfm or kpis != lines:
                    mixed.append((rfm, summary, kpis, lines))
        finally:
            conn.close()

    reader = threading.Thread(target=read_in_a_loop, daemon=True)
    reader.start()
    time.sleep(0.5)
    result = segmart(built, "build")
    time.sleep(0.5)
    stop.set()
    reader.join(timeout=30)
    assert result.returncode == 0, result.stderr[-4000:]
    log.info(f"consistency reader: {len(reads)} snapshots, {len(set(reads))} states, {len(mixed)} mixed")
    assert errors == []
    assert mixed == [], mixed[:3]
    assert len(reads) > 50
    assert len(set(reads)) == 2, "the reader must have seen the previous build and then the new one"


@pytest.mark.slow
def test_a_second_build_waits_a_bounded_time_then_exits_without_touching_anything(
    built: Folders, inputs: Path, tmp_path: Path, pg
) -> None:
    extra = generate_sales(tmp_path / "shop_2011_11.csv", rows=1000, seed=106, start="2011-11-01")
    built.drop("sales", extra)
    first = segmart_background(built, "build")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not scalar(
        pg,
        "select count(*) from pg_locks where locktype = 'advisory' and granted and objid = "
        "(hashtext('segmart.build')::bigint & 4294967295)::oid",
    ):
        time.sleep(0.1)
    started = time.monotonic()
    second = segmart(built, "build", SEGMART_RUN_WAIT="3")
    waited = time.monotonic() - started
    _out, err = first.communicate(timeout=600)
    assert first.returncode == 0, err[-3000:]
    assert second.returncode == 75, second.stderr[-2000:]
    assert (
        "Another build is still running after 3 s" in second.stderr and "segmart build in session pid" in second.stderr
    )
    assert 3 <= waited < 20
    assert scalar(pg, "select count(*) from staging.load_batches where file_name = %s", (extra.name,)) == 1
    assert len(list(built.archive.rglob(extra.name))) == 1
    # only the first run is in the log (the second never started a run)
    assert scalar(pg, "select count(*) from ops.build_runs where status = 'running'") == 0


# ---------------------------------------------------------------- faults: nothing lost, the next build green


def _wait_for(pg, query: str, params: tuple = (), timeout: float = 300, job=None) -> None:
    """Poll ``query`` until it is true; fails at ``timeout``, or as soon as ``job`` (a build) has exited.

    A ``job`` still running at the timeout is killed first: left running, it would hold the
    run lock, and every later build of the session would wait for it and fail too.
    """
    deadline = time.monotonic() + timeout
    while not scalar(pg, query, params):
        if time.monotonic() >= deadline and job is not None:
            _end(job)
        assert time.monotonic() < deadline, f"timed out waiting for: {query}"
        if job is not None and job.poll() is not None:
            _out, err = job.communicate()
            raise AssertionError(f"the build exited ({job.returncode}) before: {query}\n{err[-3000:]}")
        time.sleep(0.05)


def _end(job) -> None:
    """Kill a background build (and its dbt child when it leads its own process group)."""
    with contextlib.suppress(ProcessLookupError):
        if os.getpgid(job.pid) == job.pid:
            os.killpg(job.pid, signal.SIGKILL)
        else:
            job.kill()
    job.communicate(timeout=60)


OWN_SESSIONS_GONE = "select count(*) = 0 from pg_stat_activity where application_name like 'segmart-dbt-%%'"
DBT_BUILDS_MARTS = (
    "select count(*) > 0 from pg_stat_activity where application_name like 'segmart-dbt-%%' and query like %s"
)


@pytest.mark.slow
def test_kill_9_during_dbt_and_during_the_publication_publishes_nothing_and_the_next_build_is_green(
    built: Folders, connection_info, pg, tmp_path: Path
) -> None:
    before = mart_checksums(pg, PUBLISHED_TOGETHER)
    lines_before = scalar(pg, "select count(*) from staging.sales_uci_lines")
    built.drop("sales", generate_sales(tmp_path / "shop_2012_02.csv", rows=800, seed=111, start="2012-02-01"))
    # 1. killed (the job and its dbt child) while dbt builds the marts in data_mart_build
    job = segmart_background(built, "build", new_session=True)
    _wait_for(pg, DBT_BUILDS_MARTS, ("%data_mart_build%",), job=job)
    os.killpg(job.pid, signal.SIGKILL)
    job.communicate(timeout=60)
    _wait_for(pg, OWN_SESSIONS_GONE, timeout=60)
    assert mart_checksums(pg, PUBLISHED_TOGETHER) == before
    # the landing committed before dbt started: the file's lines are there once, not lost
    assert scalar(pg, "select count(*) from staging.sales_uci_lines") == lines_before + 800
    # 2. killed inside the publishing transaction (held there by a reader's lock on a live mart)
    blocker = reader_connection(connection_info, application="Power BI Desktop")
    blocker.autocommit = False
    with blocker.cursor() as cur:
        cur.execute("select count(*) from data_mart.customer_rfm")
        cur.fetchone()
    job = segmart_background(built, "build", new_session=True, SEGMART_LOCK_TIMEOUT="120")
    try:
        _wait_for(
            pg,
            "select count(*) > 0 from pg_locks as l inner join pg_stat_activity as a on a.pid = l.pid"
            " where not l.granted and l.relation = 'data_mart.customer_rfm'::regclass"
            " and a.application_name like 'segmart-dbt-%%-publish'",
            timeout=900,  # the whole project is built first: no successful build was recorded
            job=job,
        )
    finally:
        _end(job)  # killed inside the publication (or, when the wait failed, wherever it was)
        blocker.rollback()
        blocker.close()
    _wait_for(pg, OWN_SESSIONS_GONE, timeout=60)
    assert mart_checksums(pg, PUBLISHED_TOGETHER) == before
    assert scalar(pg, "select count(*) from pg_class where relnamespace = 'data_mart_retired'::regnamespace") == 0
    # 3. the next build publishes the new file; the killed runs are recorded as aborted
    again = segmart(built, "build")
    assert again.returncode == 0, again.stderr[-4000:]
    assert mart_checksums(pg, PUBLISHED_TOGETHER)["sales_lines"] != before["sales_lines"]
    statuses = [s for (s,) in rows(pg, "select run_status from data_mart.build_runs order by run_id desc limit 3")]
    assert statuses == ["success", "aborted", "aborted"]


@pytest.mark.slow
def test_the_database_stopped_in_the_middle_of_a_build_fails_in_one_line_and_the_next_build_is_green(
    built: Folders, connection_info, tmp_path: Path
) -> None:
    if not connection_info.embedded:
        pytest.skip("stops the database server: only done with the embedded one, never a configured server")
    pg = psycopg2.connect(**connection_info.dsn_kwargs())
    before = mart_checksums(pg, PUBLISHED_TOGETHER)
    built.drop("sales", generate_sales(tmp_path / "shop_2012_03.csv", rows=800, seed=112, start="2012-03-01"))
    job = segmart_background(built, "build")
    _wait_for(pg, DBT_BUILDS_MARTS, ("%data_mart_build%",), job=job)
    pg.close()
    stopped = segmart(built, "db", "stop")
    try:
        assert stopped.returncode == 0, stopped.stderr[-2000:]
        _out, err = job.communicate(timeout=300)
    finally:
        started = segmart(built, "db", "start")
        assert started.returncode == 0, started.stderr[-2000:]
    assert job.returncode == 2, err[-4000:]
    assert "Traceback" not in err, err[-4000:]
    error = next(line for line in err.splitlines() if line.startswith("error: "))
    assert "database" in error, error
    pg = psycopg2.connect(**connection_info.dsn_kwargs())
    try:
        assert mart_checksums(pg, PUBLISHED_TOGETHER) == before
        again = segmart(built, "build")
        assert again.returncode == 0, again.stderr[-4000:]
        assert mart_checksums(pg, PUBLISHED_TOGETHER)["sales_lines"] != before["sales_lines"]
        assert last_run(pg)["run_status"] == "success"
    finally:
        pg.close()


def _small_filesystem(path: Path, size: str) -> bool:
    """Mount a tmpfs of ``size`` on ``path``; False where the machine does not allow it (not root, a container)."""
    import subprocess

    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    return done.returncode == 0


@pytest.mark.slow
def test_a_full_disk_fails_the_build_publishes_nothing_and_the_next_build_is_green(
    built: Folders, connection_info, pg, tmp_path: Path
) -> None:
    """The build's new tables go to a tablespace on a 3 MB filesystem (``default_tablespace``):
    PostgreSQL runs out of space in the middle of the build."""
    import subprocess

    if not connection_info.embedded:
        pytest.skip("needs a tablespace on this machine's disk: only with the embedded server")
    import tempfile

    # not under tmp_path: pytest makes its base directory 0700 for its own user,
    # and the server (another user) must reach the tablespace's directory
    small = Path(tempfile.mkdtemp(prefix="segmart-small-disk-"))
    if not _small_filesystem(small, "3m"):
        small.rmdir()
        pytest.skip("cannot mount a small filesystem here (needs root and mount rights)")
    try:
        server_user = Path(str(scalar(pg, "show data_directory"))).stat()
        os.chown(small, server_user.st_uid, server_user.st_gid)
        pg.autocommit = True
        with pg.cursor() as cur:
            cur.execute(f"create tablespace segmart_full_disk location '{small}'")
        pg.autocommit = False
        before = mart_checksums(pg, PUBLISHED_TOGETHER)
        built.drop("sales", generate_sales(tmp_path / "shop_2012_04.csv", rows=3000, seed=113, start="2012-04-01"))
        result = segmart(built, "build", PGOPTIONS="-c default_tablespace=segmart_full_disk")
        assert result.returncode in (1, 2), result.stderr[-4000:]
        assert "No space left on device" in result.stderr + result.stdout, result.stderr[-4000:]
        assert "Traceback" not in result.stderr
        assert mart_checksums(pg, PUBLISHED_TOGETHER) == before
    finally:
        # move whatever the failed build left on the small disk back, then remove it
        pg.rollback()
        pg.autocommit = True
        with pg.cursor() as cur:
            cur.execute(
                "select c.oid::regclass::text, c.relkind from pg_class as c inner join pg_tablespace as t"
                " on t.oid = c.reltablespace where t.spcname = 'segmart_full_disk' and c.relkind in ('r', 'i', 'p')"
                # a TOAST table and its index move with the table they belong to
                " and c.relnamespace <> 'pg_toast'::regnamespace"
            )
            for name, kind in cur.fetchall():
                cur.execute(f"alter {'index' if kind == 'i' else 'table'} {name} set tablespace pg_default")
            cur.execute("drop tablespace if exists segmart_full_disk")
        pg.autocommit = False
        subprocess.run(["umount", str(small)], check=False)
        small.rmdir()
    again = segmart(built, "build")
    assert again.returncode == 0, again.stderr[-4000:]
    assert mart_checksums(pg, PUBLISHED_TOGETHER)["sales_lines"] != before["sales_lines"]


def test_schedule_print_gives_absolute_paths_for_cron_systemd_and_windows(folders: Folders) -> None:
    result = segmart(folders, "schedule", "print", "--at", "03:15")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    root = Path(__file__).resolve().parent.parent
    cron = next(line for line in text.splitlines() if line.startswith("15 3 * * *"))
    assert f"cd {root} &&" in cron and f"{root}/run.py build" in cron
    assert "ExecStart=" in text and f"{root}/run.py build" in text
    assert "OnCalendar=*-*-* 03:15:00" in text and "[Install]" in text
    assert 'schtasks /Create /TN "segmart nightly build" /SC DAILY /ST 03:15' in text
    assert "75 another build was running" in text
