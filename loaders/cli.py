"""A thin command line over the package: ``python -m loaders <command>``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from loaders import embedded
from loaders.settings import SegmartError, load_environment, uses_external_server

log = logging.getLogger("segmart")


def _db(args: argparse.Namespace) -> int:
    load_environment()
    if uses_external_server() and args.action in {"start", "stop", "reset"}:
        log.info("SEGMART_PG_HOST is set, so the configured server is used and the embedded one is left alone.")
        return 0
    if args.action == "start":
        conn = embedded.start(port=args.port)
        log.info("embedded PostgreSQL is running: %s", conn.url())
    elif args.action == "stop":
        log.info("stopped" if embedded.stop() else "the embedded PostgreSQL was not running")
    elif args.action == "status":
        state = embedded.status()
        if not state.initialised:
            log.info("not set up yet (data directory %s); `python run.py db start` creates it", state.data_dir)
            return 3
        word = f"running (pid {state.pid})" if state.running else "stopped"
        log.info("%s on 127.0.0.1:%s, data in %s", word, state.port, state.data_dir)
        return 0 if state.running else 3
    elif args.action == "url":
        from loaders.db import resolve

        sys.stdout.write(resolve(start_embedded=False).url() + "\n")
    elif args.action == "check":
        from loaders.db import connect, resolve

        conn = resolve()
        pg = connect(conn)
        try:
            with pg.cursor() as cur:
                cur.execute("show server_version")
                version = cur.fetchone()[0]
        finally:
            pg.close()
        log.info("connected to PostgreSQL %s at %s", version, conn.url(with_password=False))
    elif args.action == "reset":
        if not args.yes:
            raise SegmartError("`db reset` deletes the embedded database and all its data; add --yes to confirm.")
        embedded.reset()
        log.info("embedded PostgreSQL stopped and its data directory deleted")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m loaders", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="manage the embedded PostgreSQL")
    db.add_argument("action", choices=["start", "stop", "status", "url", "check", "reset"])
    db.add_argument("--port", type=int, help="with start: move the server to this port")
    db.add_argument("--yes", action="store_true", help="with reset: confirm deleting all data")
    db.set_defaults(func=_db)

    from loaders import jobs

    jobs.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(message)s" if not args.verbose else "%(asctime)s %(name)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.func(args) or 0)
    except SegmartError as exc:
        log.error("error: %s", exc)
        return 2
    except KeyboardInterrupt:
        log.error("interrupted")
        return 130
