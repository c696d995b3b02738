"""One pull from 1C = one load: read everything first, then land it through the 1C loader at once.

The watermark is the newest document date of the successful pulls
(``ops.onec_pulls``); a pull reads the documents dated from
``SEGMART_ONEC_LOOKBACK_DAYS`` days before it, because documents are
re-posted and edited after the day. The documents are spooled to a file in the
1C CSV layout and landed by ``loaders.load.load_file``: the same checks,
quarantine, lineage and superseding by document as an export dropped in the
inbox. The withdrawn documents and the pull's row are written in the load's
transaction, so a pull lands completely or not at all: a failure on any page
happens before the load starts.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path

import psycopg2
import psycopg2.extensions
import psycopg2.extras

from loaders.errors import LoaderError
from loaders.formats import ONEC
from loaders.load import LoadHook, LoadResult, ensure_schema, load_file
from segmart.onec import documents
from segmart.onec import settings as onec_settings
from segmart.onec.client import ODataClient, OnecError
from segmart.ops import inbox

log = logging.getLogger("segmart")

ARCHIVE_KIND = "onec"


@dataclass
class PullResult:
    status: str  # "loaded" | "unchanged"
    since: date | None
    stats: documents.SpoolStats
    requests: int
    seconds: float
    load: LoadResult | None = None

    def summary(self) -> str:
        window = f"documents dated from {self.since}" if self.since else "all documents (first pull)"
        head = (
            f"1C pull: {window}: {self.stats.documents:,} documents, {self.stats.lines:,} lines, "
            f"{len(self.stats.withdrawn):,} withdrawn (unposted or marked for deletion), "
            f"{self.requests} requests in {self.seconds:.1f} s"
        )
        if self.load is None or self.status == "unchanged":
            return head + "; nothing changed since the last pull"
        return f"{head}; {self.load.summary()}"


def ensure_pull_schema(pg: psycopg2.extensions.connection) -> None:
    ensure_schema(pg)
    with pg.cursor() as cur:
        cur.execute("select to_regclass('ops.onec_pulls') is not null")
        if not cur.fetchone()[0]:
            cur.execute("select pg_advisory_xact_lock(hashtext('segmart.onec.schema'))")
            cur.execute(resources.files("segmart.onec").joinpath("schema.sql").read_text(encoding="utf-8"))
    pg.commit()


def watermark(pg: psycopg2.extensions.connection, base_url: str) -> datetime | None:
    with pg.cursor() as cur:
        cur.execute(
            "select max(newest_document_at) from ops.onec_pulls where base_url = %s and status <> 'failed'",
            (base_url,),
        )
        found = cur.fetchone()[0]
    pg.rollback()
    return found


def _record(
    cur: psycopg2.extensions.cursor,
    settings: onec_settings.OnecSettings,
    started_at: datetime,
    status: str,
    since: date | None,
    stats: documents.SpoolStats | None,
    requests: int,
    load_id: int | None = None,
    error: str | None = None,
) -> None:
    cur.execute(
        """
        insert into ops.onec_pulls
            (started_at, status, base_url, since_date, newest_document_at, documents, lines, withdrawn,
             requests, load_id, error_text)
        values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        """,
        (
            started_at,
            status,
            settings.base_url,
            since,
            stats.newest_document_at if stats else None,
            stats.documents if stats else 0,
            stats.lines if stats else 0,
            len(stats.withdrawn) if stats else 0,
            requests,
            load_id,
            error,
        ),
    )


def pull(
    pg: psycopg2.extensions.connection,
    settings: onec_settings.OnecSettings | None = None,
    *,
    archive_dir: Path | None = None,
    before_insert: LoadHook | None = None,
) -> PullResult:
    """Pull from 1C and land the result; raises OnecError (recorded in ops.onec_pulls) when it cannot."""
    settings = settings or onec_settings.load()
    started = time.perf_counter()
    started_at = datetime.now(UTC)
    ensure_pull_schema(pg)
    mark = watermark(pg, settings.base_url)
    since = (mark.date() - timedelta(days=settings.lookback_days)) if mark else None
    client = ODataClient(settings)
    stats: documents.SpoolStats | None = None
    try:
        with tempfile.TemporaryDirectory(prefix="segmart-onec-") as tmp:
            spool = Path(tmp) / f"onec-pull-{started_at.strftime('%Y%m%dT%H%M%SZ')}.csv"
            stats = documents.spool(client, since, spool)
            withdrawn = sorted(stats.withdrawn)
            spooled = stats

            def land_withdrawn(cur: psycopg2.extensions.cursor, load_id: int) -> None:
                psycopg2.extras.execute_values(
                    cur,
                    "insert into staging.onec_withdrawn_documents (load_id, sale_id, document_ref, reason) values %s",
                    [(load_id, number, ref, reason) for number, ref, reason in withdrawn],
                )
                _record(cur, settings, started_at, "loaded", since, spooled, client.requests, load_id)

            result = load_file(
                pg,
                spool,
                (ONEC,),
                forced_format=ONEC,
                encoding="utf-8",
                delimiter=";",
                # a reference missing from its catalog leaves a required field empty: the checked
                # path names the field in the reason ("product: empty required field")
                checked=bool(stats.unknown_refs),
                before_insert=before_insert,
                before_commit=land_withdrawn,
                identity="\n".join(f"{n}\t{r}\t{why}" for n, r, why in withdrawn),
            )
            if result.status == "duplicate":
                with pg.cursor() as cur:
                    _record(cur, settings, started_at, "unchanged", since, stats, client.requests)
                pg.commit()
            elif archive_dir is not None:
                inbox.archive(spool, archive_dir, ARCHIVE_KIND)
    except (OnecError, LoaderError, psycopg2.Error, OSError) as exc:
        pg.rollback()
        message = _failure_text(exc)
        try:
            with pg.cursor() as cur:
                _record(cur, settings, started_at, "failed", since, stats, client.requests, error=message)
            pg.commit()
        except psycopg2.Error:
            pg.rollback()
            log.warning("could not record the failed pull in ops.onec_pulls")
        raise OnecError(message) from None
    outcome = PullResult(
        status="unchanged" if result.status == "duplicate" else "loaded",
        since=since,
        stats=stats,
        requests=client.requests,
        seconds=time.perf_counter() - started,
        load=result,
    )
    log.info("%s", outcome.summary())
    return outcome


def _failure_text(exc: BaseException) -> str:
    if isinstance(exc, OnecError):
        return f"{exc}. Nothing of this pull landed; the marts keep the previous 1C data."
    if isinstance(exc, psycopg2.Error):
        detail = (exc.pgerror or str(exc)).strip()
        return f"1C pull: the database refused the load ({detail}); nothing of this pull landed."
    return f"1C pull failed: {exc}; nothing of this pull landed."


def command() -> int:
    """``segmart pull onec``: 0 when the pull landed (or nothing changed); raises OnecError otherwise (exit 2)."""
    from segmart import db
    from segmart.ops import demo, runlog
    from segmart.ops import settings as ops_settings

    settings = onec_settings.load()
    runlog.install_secret_filter(ODataClient(settings).secrets)
    archive_dir = ops_settings.load().archive_dir
    pg = db.connect()
    try:
        runlog.ensure_schema(pg)  # ops.sample_loads: the first own load removes the demo data
        pull(pg, settings, archive_dir=archive_dir, before_insert=demo.remove_sample)
    finally:
        pg.close()
    return 0
