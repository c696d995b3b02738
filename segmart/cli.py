"""segmart's command line: ``segmart <command>`` (or ``python -m segmart``, or ``python3 run.py``).

Only argument parsing lives here; every command calls one function of the
module that owns the job (``db``, ``loading``, ``generate``, ``pipeline``).
"""

from __future__ import annotations

import argparse
import codecs
import dataclasses
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path, PureWindowsPath
from typing import NoReturn

from loaders.errors import LoaderError
from loaders.formats import BANK_FORMATS, EVENT_FORMATS, SALES_FORMATS, Format
from segmart import config
from segmart.commands import COMMANDS, HELP, RUN, overview
from segmart.config import SegmartError

log = logging.getLogger("segmart")


# ---------------------------------------------------------------- argument types


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: the problem and where to read the usage, no usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def _positive(text: str) -> int:
    value = _whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _non_negative(text: str) -> int:
    value = _whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _port(text: str) -> int:
    value = _whole_number(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 1-65535, got {value}")
    return value


def _time_of_day(text: str) -> str:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise argparse.ArgumentTypeError(f"expected a time of day HH:MM (00:00-23:59), got {text!r}")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def _encoding(text: str) -> str:
    try:
        codecs.lookup(text)
    except LookupError:
        raise argparse.ArgumentTypeError(f"unknown encoding {text!r} (e.g. utf-8, cp1251)") from None
    return text


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {text!r}") from exc


def _delimiter(value: str) -> str:
    delimiter = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}.get(value, value)
    if len(delimiter) != 1 or delimiter in '"\r\n':
        raise argparse.ArgumentTypeError(
            f"{value!r} is not one character: use ',', ';', '|', 'tab' or another single character"
        )
    return delimiter


# ---------------------------------------------------------------- commands


def _db(args: argparse.Namespace) -> int:
    from segmart import db

    return db.command(args.action, port=args.port, confirmed=args.yes, listen=args.listen, cidr=args.cidr)


def _load(formats: tuple[Format, ...]):
    def run(args: argparse.Namespace) -> int:
        from segmart import loading

        return loading.load_command(
            [Path(p) for p in args.files],
            formats,
            forced_format=args.format,
            encoding=args.encoding,
            delimiter=args.delimiter,
            checked=args.checked,
            engine=config.engine(),
        )

    return run


def _generate_sales(args: argparse.Namespace) -> int:
    from segmart.generate import generate_sales

    started = time.perf_counter()
    stats = generate_sales(
        args.out,
        fmt=args.format,
        rows=args.rows,
        customers=args.customers,
        days=args.days,
        seed=args.seed,
        start_date=args.start_date,
        encoding=args.encoding,
        delimiter=args.delimiter,
    )
    log.info(
        "generated %s: %s rows, %s invoices (%s cancellations), %s customers, %s bytes in %.1f s",
        stats["path"],
        stats["rows"],
        stats["invoices"],
        stats["cancellations"],
        stats["customers"],
        stats["bytes"],
        time.perf_counter() - started,
    )
    return 0


def _generate_bank(args: argparse.Namespace) -> int:
    from segmart.generate import generate_bank

    started = time.perf_counter()
    stats = generate_bank(
        args.out_dir,
        clients=args.clients,
        usages=args.usages,
        seed=args.seed,
        start_date=args.start_date,
        days=args.days,
    )
    log.info(
        "generated %s: %s clients, %s usages (%s with unknown client_id), %s clients without usage, %s bytes in %.1f s",
        stats["out_dir"],
        stats["clients"],
        stats["usages"],
        stats["orphan_usages"],
        stats["clients_without_usage"],
        stats["bytes"],
        time.perf_counter() - started,
    )
    return 0


def _generate_events(args: argparse.Namespace) -> int:
    from segmart.generate import generate_events
    from segmart.generate.events import DEFAULT_PATH

    given = {name: getattr(args, name) for name in ("start_date", "days") if getattr(args, name) is not None}
    try:
        stats = generate_events(args.out or DEFAULT_PATH, rows=args.rows, seed=args.seed, **given)
    except ValueError as exc:  # --days below the minimum
        raise SegmartError(str(exc)) from None
    log.info(
        "generated %s: %s rows, %s sessions (%s purchases, revenue %s), %s users, %s duplicates, %s bytes in %.1f s",
        stats.path,
        stats.rows,
        stats.sessions,
        stats.purchases,
        stats.revenue,
        stats.users,
        stats.duplicates,
        stats.bytes,
        stats.seconds,
    )
    log.info("planted: %s", "; ".join(f"{a.kind} {a.day} ({a.detail})" for a in stats.planted))
    return 0


def _bi(args: argparse.Namespace) -> int:
    from segmart.bi import endpoint as bi_endpoint

    action = args.bi_action
    if action == "add-user":
        from segmart import db
        from segmart.bi.users import add_login

        pg = db.connect()
        try:
            login = add_login(pg, args.name, reset_password=args.reset_password)
        finally:
            pg.close()
        where = bi_endpoint.resolve(args.host)
        sys.stdout.write(
            f"login     {login.name}\npassword  {login.password}\n"
            f"(shown once: store it now; `bi add-user {login.name} --reset-password` makes a new one)\n"
            f"server    {where.server}\ndatabase  {where.dbname}\n"
        )
        return 0
    if action == "contracts":
        from segmart import db
        from segmart.bi import contracts

        db.resolve()
        now = contracts.current()
        if args.update:
            log.info("wrote %s (%d marts)", contracts.save(now), len(now))
            return 0
        breaks = contracts.breaking_changes(contracts.load(), now)
        for item in breaks:
            log.error("breaking: %s", item)
        if breaks:
            return 1
        log.info("contracts compatible with %s (%d marts read by exposures)", contracts.SNAPSHOT, len(now))
        return 0
    if action == "docs":
        from segmart.bi.docs import generate

        log.info("wrote %s", generate(args.out))
        return 0
    where = bi_endpoint.resolve(args.host)
    if action == "pbids":
        from segmart.bi.pbids import write

        log.info("wrote %s (server %s, database %s, Import mode)", write(where, args.out), where.server, where.dbname)
    elif action == "m":
        from segmart.bi.pbids import m_expression

        sys.stdout.write(m_expression(where, args.table))
    elif action == "info":
        from segmart.config import bi_role

        sys.stdout.write(bi_endpoint.describe(where, args.user, bi_role()))
    return 0


def _report_settings(args: argparse.Namespace):
    from segmart.report import report_settings

    return report_settings(out=args.out, lang=args.lang, keep=args.keep, csv_delimiter=args.csv_delimiter)


def _build(args: argparse.Namespace) -> int:
    if config.engine() == "spark":
        from segmart import spark_build

        if not args.no_report:
            log.info("the manager report reads PostgreSQL's data_mart: not written by a Spark build (docs/spark.md)")
        return spark_build.build(sample=args.sample, full_refresh=args.full_refresh)

    from segmart import pipeline

    return pipeline.build(
        sample=args.sample,
        full_refresh=args.full_refresh,
        report=None if args.no_report else _report_settings(args),
    )


def _report(args: argparse.Namespace) -> int:
    from segmart import db
    from segmart.ops import demo
    from segmart.report import run_report
    from segmart.report.files import DEMO_FOLDER

    settings = _report_settings(args)
    conn = db.connect()
    try:
        if demo.demo_only(conn):  # as the build does: the demo's files never pass for the user's
            settings = dataclasses.replace(settings, out_dir=settings.out_dir / DEMO_FOLDER)
        written = run_report(conn, settings)
    finally:
        conn.close()
    log.info("report files in %s:\n%s", settings.out_dir, "\n".join(f"  {p.name}" for p in written))
    return 0


def _land(args: argparse.Namespace) -> int:
    from segmart import pipeline

    return pipeline.build(land_only=True, report=None)


def _pull(args: argparse.Namespace) -> int:
    from segmart.onec.pull import command

    return command()


def _schedule(args: argparse.Namespace) -> int:
    from segmart.ops import schedule

    sys.stdout.write(schedule.entries(at=args.at, user=args.user, windows_dir=args.windows_dir))
    return 0


def _freshness(args: argparse.Namespace) -> int:
    from segmart import db
    from segmart.ops import freshness
    from segmart.ops import settings as ops_settings

    pg = db.connect()
    try:
        stale = freshness.stale_sources(pg, lock_timeout=ops_settings.load().lock_timeout)
    finally:
        pg.close()
    log.info("stale sources: %s", "; ".join(stale) if stale else "none")
    return 1 if stale else 0


# ---------------------------------------------------------------- parser


def _verbose_parent() -> argparse.ArgumentParser:
    """``-v`` on every (sub-)command, so ``build -v`` works like ``-v build``."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,  # absent here: the value before the command stands
        help="debug logging and the full dbt log on screen",
    )
    return parent


_VERBOSE = _verbose_parent()


def _command(
    sub: argparse._SubParsersAction, name: str, help_text: str | None = None, details: str = ""
) -> argparse.ArgumentParser:
    """A (sub-)command with its one line as help and description, and ``-v``."""
    text = help_text or HELP[name]
    description = text[0].upper() + text[1:] + "." + (f" {details}" if details else "")
    return sub.add_parser(name, help=text, description=description, parents=[_VERBOSE])


def _add_db(sub: argparse._SubParsersAction) -> None:
    db = _command(
        sub,
        "db",
        details="start creates the server on first use (in .segmart/); as root it runs as the system user "
        "segmart-pg, created then, because PostgreSQL refuses to run as root.",
    )
    db.add_argument("action", choices=["start", "stop", "status", "url", "check", "reset"])
    db.add_argument("--port", type=_port, help="with start: move the server to this port")
    db.add_argument("--yes", action="store_true", help="with reset: confirm deleting all data")
    db.add_argument(
        "--listen",
        metavar="ADDRESS[:PORT]",
        help="with start: also accept TLS connections on this address (default port: the first free one "
        "after the server's); "
        "'localhost' closes it again (default: SEGMART_LISTEN, else as last started)",
    )
    db.add_argument(
        "--cidr", help="with start --listen: who may connect, e.g. 192.168.1.0/24 (default: SEGMART_LISTEN_CIDR, /24)"
    )
    db.set_defaults(func=_db)


def _add_load(sub: argparse._SubParsersAction, name: str, formats: tuple[Format, ...], help_text: str) -> None:
    parser = _command(
        sub,
        name,
        help_text,
        "The format, encoding and delimiter are detected from the header; a row that cannot be used is "
        "quarantined with its reason, a file that cannot be used is refused with its line and problem.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="CSV files (optionally .gz) or XLSX workbooks")
    parser.add_argument("--format", choices=[f.name for f in formats], help="skip header detection")
    parser.add_argument("--encoding", type=_encoding, help="e.g. utf-8, cp1251 (default: detected)")
    parser.add_argument("--delimiter", type=_delimiter, help="',', ';' or 'tab' (default: detected from the header)")
    parser.add_argument("--checked", action="store_true", help="always check rows in Python (skip the COPY fast path)")
    _add_engine(parser, "postgres: COPY into staging; spark: Parquet files in SEGMART_LANDING_DIR")
    parser.set_defaults(func=_load(formats))


def _add_generate(sub: argparse._SubParsersAction) -> None:
    # the generator writes each sales format the loaders read; naming them from
    # loaders.formats keeps numpy (0.3 s) out of every other command's start-up
    formats = [fmt.name for fmt in SALES_FORMATS]
    gen = _command(sub, "generate", details="The same seed and options always write the same file.")
    kinds = gen.add_subparsers(dest="generate_kind", metavar="{sales,bank,events}", required=True)

    sales = _command(kinds, "sales", "a sales export (UCI Online Retail I/II or 1C:ERP lines)")
    sales.add_argument("--format", choices=formats, default="uci", help="output layout (default: uci)")
    sales.add_argument("--rows", type=_non_negative, default=50_000, help="data lines to write (default: 50000)")
    sales.add_argument("--customers", type=_positive, default=500, help="size of the customer base (default: 500)")
    sales.add_argument("--days", type=_positive, default=365, help="calendar days covered (default: 365)")
    sales.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    sales.add_argument(
        "--start-date", type=_iso_date, default=None, help="first day (default: 2010-12-01 for UCI, 2023-01-01 for 1C)"
    )
    sales.add_argument("--encoding", type=_encoding, default=None, help="default: utf-8 for UCI, cp1251 for 1C")
    sales.add_argument("--delimiter", type=_delimiter, default=None, help="default: ',' for UCI, ';' for 1C")
    sales.add_argument("out", metavar="OUT", help="output file; a .gz suffix compresses it")
    sales.set_defaults(func=_generate_sales)

    bank = _command(kinds, "bank", "bank clients.csv and product_usage.csv")
    bank.add_argument("--clients", type=_positive, default=5_000, help="clients (default: 5000)")
    bank.add_argument("--usages", type=_non_negative, default=40_000, help="usage rows (default: 40000)")
    bank.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    bank.add_argument("--start-date", type=_iso_date, default=date(2023, 1, 1), help="first day (default: 2023-01-01)")
    bank.add_argument("--days", type=_positive, default=730, help="days covered (default: 730)")
    bank.add_argument("out_dir", metavar="OUT_DIR", help="directory for the two CSV files")
    bank.set_defaults(func=_generate_bank)

    # the defaults live in segmart.generate.events: importing it here would load numpy for every command
    events = _command(kinds, "events", "an online-shop event log (views, carts, checkouts, purchases)")
    events.add_argument("--rows", type=_non_negative, required=True, help="data lines to write")
    events.add_argument(
        "--out", type=Path, help="output file; a .gz suffix compresses it (default: data/sample/events.csv.gz)"
    )
    events.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    events.add_argument("--start-date", type=_iso_date, help="first day (default: 2024-01-01)")
    events.add_argument("--days", type=_positive, help="days covered, at least 120 (default: 731, two years)")
    events.set_defaults(func=_generate_events)


def _add_engine(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--engine", choices=config.ENGINES, help=f"{what} (default: SEGMART_ENGINE or postgres)")


def _add_build(sub: argparse._SubParsersAction) -> None:
    parser = _command(
        sub,
        "build",
        details="Without own files in data/inbox it builds the bundled demo; a refused file never stops the "
        "others. Exit codes: 0 ok, 1 partial, 2 error, 3 locked out by a BI session, 75 another build running.",
    )
    parser.add_argument(
        "--sample",
        action="store_true",
        help="load the demo data even if the inbox has files (refused once own data landed)",
    )
    parser.add_argument("--full-refresh", action="store_true", help="rebuild incremental models from scratch")
    parser.add_argument("--no-report", action="store_true", help="do not write the manager report after the build")
    _add_engine(parser, "build the marts on PostgreSQL or on Apache Spark (docs/spark.md)")
    _add_report_options(parser)
    parser.set_defaults(func=_build)


def _add_bi(sub: argparse._SubParsersAction) -> None:
    from segmart.config import PROJECT_ROOT

    bi = _command(sub, "bi")
    actions = bi.add_subparsers(dest="bi_action", metavar="{pbids,m,add-user,info,docs,contracts}", required=True)
    host_help = "host name or address BI tools use (default: SEGMART_BI_HOST, the --listen address, or 127.0.0.1)"

    pbids = _command(actions, "pbids", "write a Power BI data-source file (.pbids) for this database")
    pbids.add_argument("--out", type=Path, default=PROJECT_ROOT / "segmart.pbids", help="default: ./segmart.pbids")
    pbids.add_argument("--host", help=host_help)

    m = _command(actions, "m", "print the Power Query M expression")
    m.add_argument("--table", help="navigate to this data_mart table")
    m.add_argument("--host", help=host_help)

    add_user = _command(actions, "add-user", "create a read-only login for BI; prints its password once")
    add_user.add_argument("name", metavar="NAME", help="login name (lowercase letters, digits, _)")
    add_user.add_argument("--reset-password", action="store_true", help="give an existing login a new password")
    add_user.add_argument("--host", help=host_help)

    info = _command(actions, "info", "print host, port, database, user and a postgresql:// URL")
    info.add_argument("--user", default="powerbi", help="the BI login to show (default: powerbi)")
    info.add_argument("--host", help=host_help)

    docs = _command(actions, "docs", "write the dbt documentation as one HTML file next to the report")
    docs.add_argument("--out", type=Path, help="folder (default: SEGMART_REPORT_DIR or reports/)")

    contracts = _command(
        actions, "contracts", "check the marts' columns against contracts/data_mart.json (exit 1 on a breaking change)"
    )
    contracts.add_argument("--update", action="store_true", help="rewrite the snapshot from the current models")
    bi.set_defaults(func=_bi)


def _add_report_options(parser: argparse.ArgumentParser) -> None:
    from segmart.report.csvout import DELIMITERS
    from segmart.report.i18n import LANGS

    parser.add_argument(
        "--lang",
        choices=LANGS,
        metavar="LANG",
        help=f"report language, {', '.join(LANGS)} (default: SEGMART_REPORT_LANG or en)",
    )
    parser.add_argument("--out", metavar="DIR", help="report folder (default: SEGMART_REPORT_DIR or reports/)")
    parser.add_argument(
        "--keep", type=_positive, help="keep the newest N files of each kind (default: SEGMART_REPORT_KEEP or 7)"
    )
    parser.add_argument(
        "--csv-delimiter",
        choices=DELIMITERS,
        metavar="CHAR",
        help=f"CSV delimiter, {' or '.join(map(repr, DELIMITERS))} (default: SEGMART_REPORT_CSV_DELIMITER or ';')",
    )


def _add_report(sub: argparse._SubParsersAction) -> None:
    parser = _command(sub, "report", details="Files are named by the date of the run; old ones are pruned.")
    _add_report_options(parser)
    parser.set_defaults(func=_report)


def _add_land(sub: argparse._SubParsersAction) -> None:
    parser = _command(sub, "land")
    parser.set_defaults(func=_land)


def _add_pull(sub: argparse._SubParsersAction) -> None:
    parser = _command(
        sub,
        "pull",
        details="A failure lands nothing; the password and the Authorization header never reach a log (docs/onec.md).",
    )
    parser.add_argument("source", choices=["onec"], help="onec: the 1C base at SEGMART_ONEC_URL")
    parser.set_defaults(func=_pull)


def _add_schedule(sub: argparse._SubParsersAction) -> None:
    parser = _command(sub, "schedule")
    parser.add_argument("action", choices=["print"])
    parser.add_argument("--at", type=_time_of_day, default="02:30", help="time of day, HH:MM (default: 02:30)")
    parser.add_argument("--user", help="the account the systemd service runs as (default: the user running this)")
    parser.add_argument(
        "--windows-dir",
        type=PureWindowsPath,
        metavar="PATH",
        help=r"the checkout's folder on the Windows machine (default there: this checkout; elsewhere C:\segmart)",
    )
    parser.set_defaults(func=_schedule)


def _add_freshness(sub: argparse._SubParsersAction) -> None:
    parser = _command(sub, "freshness")
    parser.set_defaults(func=_freshness)


class _Overview(argparse.Action):
    """``segmart --help``: the same command list as ``python3 run.py --help``."""

    def __call__(self, parser, namespace, values, option_string=None) -> NoReturn:
        sys.stdout.write(overview(parser.prog))
        parser.exit(0)


def _add_runner_commands(sub: argparse._SubParsersAction) -> None:
    """``test`` and ``setup`` (run by ``main`` before parsing: their arguments are pytest's / none)."""
    test = _command(sub, "test", details="Any pytest arguments follow; the real-data tests need SEGMART_REAL_DATA.")
    test.add_argument("pytest_args", nargs="*", metavar="PYTEST_ARG")
    _command(sub, "setup", details="run.py does this before every command; needed only after editing requirements.txt.")


def _prog() -> str:
    """``segmart`` as the console script, else the way run.py is typed (``python3 run.py``)."""
    return "segmart" if Path(sys.argv[0]).stem == "segmart" else RUN


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=_prog(), description=__doc__.split("\n", 1)[0], add_help=False)
    parser.add_argument("-h", "--help", action=_Overview, nargs=0, help="this list of commands")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging and the full dbt log on screen")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="<command>")
    adders = {
        "build": _add_build,
        "report": _add_report,
        "sales": lambda s: _add_load(s, "sales", SALES_FORMATS, HELP["sales"]),
        "bank": lambda s: _add_load(s, "bank", BANK_FORMATS, HELP["bank"]),
        "events": lambda s: _add_load(s, "events", EVENT_FORMATS, HELP["events"]),
        "generate": _add_generate,
        "db": _add_db,
        "land": _add_land,
        "pull": _add_pull,
        "schedule": _add_schedule,
        "freshness": _add_freshness,
        "bi": _add_bi,
    }
    for name, _ in COMMANDS:  # argparse lists them in this order
        if name in adders:
            adders[name](sub)
    _add_runner_commands(sub)
    return parser


def _run_tests(pytest_args: list[str]) -> int:
    from segmart.commands import pytest_args as with_names
    from segmart.config import PROJECT_ROOT

    return subprocess.run([sys.executable, "-m", "pytest", *with_names(pytest_args)], cwd=PROJECT_ROOT).returncode


def _run_setup() -> int:
    from segmart.config import PROJECT_ROOT

    return subprocess.run([sys.executable, str(PROJECT_ROOT / "run.py"), "setup"], cwd=PROJECT_ROOT).returncode


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["test"] and not {"-h", "--help"} & set(argv[1:2]):
        return _run_tests(argv[1:])  # every argument is pytest's
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "setup":
        return _run_setup()
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(message)s" if not args.verbose else "%(asctime)s %(name)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    from segmart import progress

    progress.install(verbose=args.verbose)  # a terminal: bars for loads and dbt; else plain lines
    try:
        if getattr(args, "engine", None):
            # dbt (profiles.yml) and every later step read the engine from here
            os.environ[config.ENGINE_VAR] = args.engine
        return int(args.func(args) or 0)
    except (SegmartError, LoaderError) as exc:
        log.error("error: %s", exc)
        return 2
    except OSError as exc:  # a folder that cannot be written, a disk full: the user's to fix
        log.error("error: %s", exc)
        return 2
    except KeyboardInterrupt:
        log.error("interrupted")
        return 130
