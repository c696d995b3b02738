"""The project's database: which server, opening connections with errors a user can act on, and ``db`` commands."""

from __future__ import annotations

import logging
import os
import sys

import psycopg2
import psycopg2.extensions

from segmart.config import (
    DBNAME_VAR,
    Connection,
    SegmartError,
    current_connection,
    load_environment,
    uses_external_server,
)
from segmart.db import embedded


def resolve(*, start_embedded: bool = True) -> Connection:
    """The connection to use, starting the embedded server when none is configured.

    On the embedded server a database other than the default may be asked for
    through ``SEGMART_PG_DBNAME`` (the test suite uses its own); it is created
    when missing.
    """
    load_environment()
    if uses_external_server():
        return current_connection()
    wanted = os.environ.get(DBNAME_VAR)
    conn = embedded.start(dbname=wanted) if start_embedded else embedded.connection(dbname=wanted)
    os.environ.update(conn.as_env())
    os.environ["SEGMART_EMBEDDED_ACTIVE"] = "1"
    return conn


def explain_connect_error(conn: Connection, exc: psycopg2.OperationalError) -> SegmartError:
    """Turn libpq's message into one paragraph saying what is wrong and what to do."""
    text = str(exc).strip()
    where = f"PostgreSQL at {conn.host}:{conn.port} (database {conn.dbname!r}, user {conn.user!r})"
    lowered = text.lower()
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        advice = (
            "the server rejected the password. Set the right one in DBT_ENV_SECRET_PG_PASSWORD (environment or .env)."
        )
    elif "could not translate host name" in lowered or "name or service not known" in lowered:
        advice = f"the host name {conn.host!r} does not resolve. Check SEGMART_PG_HOST."
    elif "connection refused" in lowered:
        advice = (
            "nothing accepts connections there. Check SEGMART_PG_HOST and SEGMART_PG_PORT, and that the "
            "server runs; unset SEGMART_PG_HOST to use the embedded server instead."
        )
    elif "timeout expired" in lowered or "timed out" in lowered:
        advice = "the server did not answer within 5 seconds (unreachable host or a firewall). Check SEGMART_PG_HOST."
    elif "does not exist" in lowered and "database" in lowered:
        advice = f"the database {conn.dbname!r} does not exist. Create it or fix SEGMART_PG_DBNAME."
    elif "role" in lowered and "does not exist" in lowered:
        advice = f"the user {conn.user!r} does not exist on that server. Fix SEGMART_PG_USER."
    else:
        advice = "see the server's message above and the connection settings in .env."
    return SegmartError(f"Cannot connect to {where}: {text.splitlines()[0]} — {advice}")


def connect(conn: Connection | None = None, *, application_name: str | None = None) -> psycopg2.extensions.connection:
    conn = conn or resolve()
    try:
        kwargs = conn.dsn_kwargs()
        if application_name:
            kwargs["application_name"] = application_name
        return psycopg2.connect(**kwargs)
    except psycopg2.OperationalError as exc:
        raise explain_connect_error(conn, exc) from exc


log = logging.getLogger("segmart")


def command(
    action: str,
    *,
    port: int | None = None,
    confirmed: bool = False,
    listen: str | None = None,
    cidr: str | None = None,
) -> int:
    """``db start|stop|status|url|check|reset``: the exit code of the action."""
    load_environment()
    if uses_external_server() and action in {"start", "stop", "reset"}:
        log.info("SEGMART_PG_HOST is set, so the configured server is used and the embedded one is left alone.")
        return 0
    if action == "start":
        conn = embedded.start(port=port, listen=listen, cidr=cidr)
        log.info("embedded PostgreSQL is running: %s (the URL with its password: `python3 run.py db url`)", conn.url())
    elif action == "stop":
        log.info("stopped" if embedded.stop() else "the embedded PostgreSQL was not running")
    elif action == "status":
        state = embedded.status()
        if not state.initialised:
            log.info("not set up yet (data directory %s); `python run.py db start` creates it", state.data_dir)
            return 3
        word = f"running (pid {state.pid})" if state.running else "stopped"
        log.info("%s on 127.0.0.1:%s, data in %s", word, state.port, state.data_dir)
        opened = embedded.network()
        if opened.listen is not None:
            relay = "open" if embedded.relay_running() else "set up, relay not running"
            log.info("network access (%s): %s:%s over TLS, from %s", relay, opened.listen, opened.port, opened.cidr)
        return 0 if state.running else 3
    elif action == "url":
        sys.stdout.write(resolve(start_embedded=False).url(with_password=True) + "\n")
    elif action == "check":
        conn = resolve()
        pg = connect(conn)
        try:
            with pg.cursor() as cur:
                cur.execute("show server_version")
                version = cur.fetchone()[0]
        finally:
            pg.close()
        log.info("connected to PostgreSQL %s at %s", version, conn.url())
    elif action == "reset":
        if not confirmed:
            raise SegmartError("`db reset` deletes the embedded database and all its data; add --yes to confirm.")
        embedded.reset()
        log.info("embedded PostgreSQL stopped and its data directory deleted")
    return 0
