"""The command list, in one place for ``python3 run.py --help`` and ``segmart --help``.

Standard library only: ``run.py`` prints this list on a fresh machine, before
the virtualenv (and argparse's view of the commands) exists.
"""

from __future__ import annotations

import os

# How a user types a command here: Windows has no ``python3`` by default.
RUN = "python run.py" if os.name == "nt" else "python3 run.py"

# (name, one line) in the order a new user needs them
COMMANDS: tuple[tuple[str, str], ...] = (
    ("build", "the main job: start the database, load data/inbox (or the demo data), build the marts, report"),
    ("test", "run the test suite (any pytest arguments, e.g. -k loaders, -m 'not slow')"),
    ("setup", "only create or refresh .venv (requirements.txt and this checkout, editable; --spark: also Spark)"),
    ("report", "write the manager report (HTML) and the segment lists (XLSX, CSV) from data_mart"),
    ("sales", "load UCI Online Retail or 1C:ERP sales exports into staging"),
    ("bank", "load bank clients / product-usage CSVs into staging"),
    ("events", "load event logs (views, carts, purchases of a web shop or app) into staging"),
    ("land", "load the inbox now (archive / reject its files) without building the marts"),
    ("pull", "pull sales and returns from 1C:ERP over OData (SEGMART_ONEC_URL) and land them as one load"),
    ("generate", "write deterministic synthetic input files (sales, bank, events)"),
    ("db", "manage the embedded PostgreSQL (start, stop, status, url, check, reset)"),
    ("freshness", "warn about kinds of export with no new load for SEGMART_FRESHNESS_WARN_HOURS (exit 1)"),
    ("schedule", "print scheduler entries (cron, systemd, Windows) for this checkout"),
    ("bi", "connect BI tools (Power BI, DataLens, Metabase, Superset) to data_mart"),
)
HELP = dict(COMMANDS)


def overview(prog: str = RUN) -> str:
    """The text of ``--help`` without argparse: usage, then one line per command."""
    width = max(len(name) for name, _ in COMMANDS)
    lines = [
        f"usage: {prog} [-v] <command> [options]",
        "",
        "segmart: customer segmentation marts (RFM, cohorts, ABC, KPIs, bank products) built with dbt on PostgreSQL.",
        "",
        "commands:",
        *(f"  {name:<{width}}  {text}" for name, text in COMMANDS),
        "",
        "options:",
        "  -v, --verbose  debug logging and the full dbt log on screen (before or after the command)",
        "",
        f"`{prog} <command> --help` describes a command's options.",
    ]
    return "\n".join(lines) + "\n"


def pytest_args(args: list[str]) -> list[str]:
    """The test command's pytest arguments: a line per test (its name and result) unless told otherwise."""
    chosen = {"-q", "--quiet", "-v", "--verbose", "-vv", "-qq", "--co", "--collect-only"}
    return args if chosen & set(args) else ["-v", *args]
