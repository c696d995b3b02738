"""Connection settings: where the project's PostgreSQL is and how to reach it.

Precedence, highest first:

1. variables already in the process environment;
2. the project's ``.env`` file (yours, git-ignored);
3. ``.segmart/embedded.env``, written by the embedded server when it starts.

When ``SEGMART_PG_HOST`` is set by (1) or (2) the project talks to that
server; otherwise it uses the embedded PostgreSQL kept in ``.segmart/``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from dotenv import dotenv_values

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = Path(os.environ.get("SEGMART_STATE_DIR", PROJECT_ROOT / ".segmart"))
EMBEDDED_ENV_FILE = STATE_DIR / "embedded.env"
# The Spark engine (docs/spark.md): the Parquet landing that both the loaders
# and dbt's `spark` target read, and local Spark's warehouse and metastore.
ENGINE_VAR = "SEGMART_ENGINE"
ENGINES = ("postgres", "spark")
LANDING_DIR_VAR = "SEGMART_LANDING_DIR"
SPARK_DIR_VAR = "SEGMART_SPARK_DIR"

HOST_VAR = "SEGMART_PG_HOST"
PORT_VAR = "SEGMART_PG_PORT"
USER_VAR = "SEGMART_PG_USER"
DBNAME_VAR = "SEGMART_PG_DBNAME"
PASSWORD_VAR = "DBT_ENV_SECRET_PG_PASSWORD"
BI_ROLE_VAR = "SEGMART_BI_ROLE"
CONNECTION_VARS = (HOST_VAR, PORT_VAR, USER_VAR, DBNAME_VAR, PASSWORD_VAR)


class SegmartError(Exception):
    """An error whose message is meant for the user, without a traceback."""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (PostgreSQL adds DETAIL/HINT lines below it)."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


@dataclass(frozen=True)
class Connection:
    host: str
    port: int
    user: str
    dbname: str
    password: str
    embedded: bool

    def url(self, *, with_password: bool = False) -> str:
        """The connection URL; the password only when asked (`db url`), never for a log line."""
        secret = f":{quote(self.password, safe='')}" if with_password and self.password else ""
        return f"postgresql://{quote(self.user, safe='')}{secret}@{self.host}:{self.port}/{quote(self.dbname, safe='')}"

    def dsn_kwargs(self) -> dict[str, object]:
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "dbname": self.dbname,
            "password": self.password,
            "connect_timeout": 5,
            "application_name": "segmart",
        }

    def as_env(self) -> dict[str, str]:
        return {
            HOST_VAR: self.host,
            PORT_VAR: str(self.port),
            USER_VAR: self.user,
            DBNAME_VAR: self.dbname,
            PASSWORD_VAR: self.password,
        }


def load_environment(*, override_embedded: bool = False) -> None:
    """Fill ``os.environ`` from ``.env`` and, for an embedded server, its env file.

    Called at interpreter start in the project's virtualenv (through a ``.pth``
    file), so ``dbt`` typed by hand sees the same settings as the CLI.
    """
    user_file = PROJECT_ROOT / ".env"
    if user_file.is_file():
        for key, value in dotenv_values(user_file).items():
            if value is not None:
                os.environ.setdefault(key, value)
    os.environ.setdefault("DBT_PROFILES_DIR", str(PROJECT_ROOT))
    os.environ.setdefault(LANDING_DIR_VAR, str(STATE_DIR / "landing"))
    os.environ.setdefault(SPARK_DIR_VAR, str(STATE_DIR / "spark"))
    if uses_external_server():
        return
    if EMBEDDED_ENV_FILE.is_file():
        for key, value in dotenv_values(EMBEDDED_ENV_FILE).items():
            if value is None:
                continue
            if override_embedded:
                os.environ[key] = value
            else:
                os.environ.setdefault(key, value)


def uses_external_server() -> bool:
    """True when the user configured a server rather than the embedded one."""
    return bool(os.environ.get(HOST_VAR)) and os.environ.get("SEGMART_EMBEDDED_ACTIVE") != "1"


def current_connection() -> Connection:
    """The connection described by the environment (after ``load_environment``)."""
    missing = [name for name in (HOST_VAR, PORT_VAR, USER_VAR, DBNAME_VAR) if not os.environ.get(name)]
    if missing:
        raise SegmartError(
            "No PostgreSQL connection is configured: "
            + ", ".join(missing)
            + " not set. Start the embedded server with `python3 run.py db start`, or set "
            "SEGMART_PG_HOST, SEGMART_PG_PORT, SEGMART_PG_USER, SEGMART_PG_DBNAME and "
            "DBT_ENV_SECRET_PG_PASSWORD in the environment or in .env (see .env.example)."
        )
    port_text = os.environ[PORT_VAR]
    try:
        port = int(port_text)
    except ValueError:
        raise SegmartError(f"SEGMART_PG_PORT must be a port number, got {port_text!r}.") from None
    return Connection(
        host=os.environ[HOST_VAR],
        port=port,
        user=os.environ[USER_VAR],
        dbname=os.environ[DBNAME_VAR],
        password=os.environ.get(PASSWORD_VAR, ""),
        embedded=not uses_external_server(),
    )


def bi_role() -> str:
    return os.environ.get(BI_ROLE_VAR, "bi_reader")


def engine() -> str:
    """The engine the marts are built on: ``SEGMART_ENGINE`` (postgres, the default, or spark)."""
    name = os.environ.get(ENGINE_VAR, "postgres").strip().lower() or "postgres"
    if name not in ENGINES:
        raise SegmartError(f"{ENGINE_VAR} must be one of {', '.join(ENGINES)}, got {name!r}.")
    return name


def landing_dir() -> Path:
    """Where the Parquet landing lives (one folder per staging table)."""
    return Path(os.environ.get(LANDING_DIR_VAR) or STATE_DIR / "landing")
