"""Helpers of the operations tests: running segmart with tmp folders, BI readers, an HTTP stub."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg2
from psycopg2 import sql

from pytests.support import ROOT
from segmart.config import Connection

READER_ROLE = "ops_test_reader"
READER_PASSWORD = "reader-pw-4711"


@dataclass
class Folders:
    root: Path

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def rejected(self) -> Path:
        return self.root / "rejected"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def env(self) -> dict[str, str]:
        return {
            "SEGMART_INBOX_DIR": str(self.inbox),
            "SEGMART_ARCHIVE_DIR": str(self.archive),
            "SEGMART_REJECTED_DIR": str(self.rejected),
            "SEGMART_LOG_DIR": str(self.logs),
            "DBT_TARGET_PATH": str(self.root / "target"),
            "DBT_LOG_PATH": str(self.root / "dbt-logs"),
            "SEGMART_REPORT_DIR": str(self.root / "reports"),
        }

    def drop(self, kind: str, source: Path, name: str | None = None) -> Path:
        folder = self.inbox / kind
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / (name or source.name)
        target.write_bytes(source.read_bytes())
        return target


def segmart_env(folders: Folders, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("SEGMART_ALERT_URLS", "SEGMART_ALERT_ON", "SEGMART_RUN_WAIT", "PGOPTIONS"):
        env.pop(name, None)
    env.update(folders.env())
    env.update(extra)
    return env


def segmart(folders: Folders, *args: str, timeout: float = 900, **extra: str) -> subprocess.CompletedProcess[str]:
    """``python -m segmart <args>`` with the test's folders; never raises on a non-zero exit."""
    return subprocess.run(
        [sys.executable, "-m", "segmart", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=segmart_env(folders, **extra),
        stdin=subprocess.DEVNULL,
    )


class BackgroundRun(subprocess.Popen):
    """A running command whose output goes to files, not pipes.

    A test polls the database while the run goes on and reads nothing until it ends: into
    a pipe, a build writing more than the pipe holds (64 kB) would block, and never reach
    the step the test waits for. ``communicate`` waits and returns (stdout, stderr).
    """

    def __init__(self, args: list[str], **kwargs) -> None:
        self._outputs = [tempfile.TemporaryFile(mode="w+", encoding="utf-8") for _ in range(2)]
        super().__init__(args, stdout=self._outputs[0], stderr=self._outputs[1], text=True, **kwargs)

    def communicate(self, input: str | None = None, timeout: float | None = None) -> tuple[str, str]:
        self.wait(timeout=timeout)
        texts = []
        for output in self._outputs:
            output.seek(0)
            texts.append(output.read())
        return texts[0], texts[1]


def segmart_background(folders: Folders, *args: str, new_session: bool = False, **extra: str) -> BackgroundRun:
    """``segmart <args>`` running; ``new_session``: in its own process group, so that a test can
    kill it and its dbt child together (``os.killpg``), as systemd or an operator's kill of the job does."""
    return BackgroundRun(
        [sys.executable, "-m", "segmart", *args],
        cwd=ROOT,
        env=segmart_env(folders, **extra),
        stdin=subprocess.DEVNULL,
        start_new_session=new_session,
    )


def generate_sales(path: Path, *, rows: int, seed: int, customers: int = 150, start: str = "2011-01-03") -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "segmart",
            "generate",
            "sales",
            "--rows",
            str(rows),
            "--customers",
            str(customers),
            "--days",
            "200",
            "--seed",
            str(seed),
            "--start-date",
            start,
            str(path),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return path


def generate_bank(folder: Path, *, seed: int) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "segmart",
            "generate",
            "bank",
            "--clients",
            "400",
            "--usages",
            "3000",
            "--seed",
            str(seed),
            str(folder),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return folder


def ensure_reader_role(pg) -> None:
    """A login role in the BI group role, as Power BI would connect."""
    with pg.cursor() as cur:
        cur.execute("select 1 from pg_roles where rolname = %s", (READER_ROLE,))
        if cur.fetchone() is None:
            cur.execute(
                sql.SQL("create role {} login password {} in role bi_reader").format(
                    sql.Identifier(READER_ROLE), sql.Literal(READER_PASSWORD)
                )
            )
    pg.commit()


def reader_connection(info: Connection, application: str = "ops-test reader"):
    conn = psycopg2.connect(
        host=info.host,
        port=info.port,
        dbname=info.dbname,
        user=READER_ROLE,
        password=READER_PASSWORD,
        application_name=application,
        connect_timeout=5,
    )
    conn.autocommit = True
    return conn


@dataclass
class ReaderStats:
    ok: int = 0
    errors: list[str] = field(default_factory=list)
    longest: float = 0.0


class Readers:
    """Threads that query data_mart relations in a loop, as BI users, counting outcomes."""

    def __init__(self, info: Connection, relations: list[str], threads: int = 3) -> None:
        self.info = info
        self.relations = relations
        self.stats = ReaderStats()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._loop, args=(i,), daemon=True) for i in range(threads)]

    def _loop(self, offset: int) -> None:
        conn = reader_connection(self.info)
        try:
            i = offset
            while not self._stop.is_set():
                name = self.relations[i % len(self.relations)]
                i += 1
                started = time.monotonic()
                try:
                    with conn.cursor() as cur:
                        cur.execute(sql.SQL("select count(*) from data_mart.{}").format(sql.Identifier(name)))
                        cur.fetchone()
                    outcome = None
                except psycopg2.Error as exc:
                    outcome = f"{name}: {str(exc).strip().splitlines()[0]}"
                elapsed = time.monotonic() - started
                with self._lock:
                    self.stats.longest = max(self.stats.longest, elapsed)
                    if outcome is None:
                        self.stats.ok += 1
                    else:
                        self.stats.errors.append(outcome)
                time.sleep(0.01)
        finally:
            conn.close()

    def __enter__(self) -> Readers:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)


class Stub:
    """An HTTP server on 127.0.0.1 that records the JSON bodies posted to it."""

    def __init__(self) -> None:
        received: list[dict] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                try:
                    payload = json.loads(body)
                except ValueError:
                    payload = {"raw": body.decode("utf-8", "replace")}
                payload["_path"] = self.path
                payload["_authorization"] = self.headers.get("Authorization")
                received.append(payload)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Stub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
