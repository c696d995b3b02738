"""Read-only logins for BI tools: members of the BI role, which can read ``data_mart`` only.

The password is generated here, hashed with SCRAM-SHA-256 on this side
(libpq's ``PQencryptPasswordConn``), and only the verifier is sent, so the
plain text never reaches the server or its logs. It is shown once.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from segmart.config import SegmartError, bi_role

log = logging.getLogger(__name__)

NAME_PATTERN = re.compile(r"[a-z_][a-z0-9_]{0,62}")
PASSWORD_BYTES = 24


@dataclass(frozen=True)
class NewLogin:
    name: str
    password: str
    role: str


def _check_name(name: str, owner: str) -> None:
    if not NAME_PATTERN.fullmatch(name):
        raise SegmartError(
            f"Login name {name!r} is not allowed: use lowercase letters, digits and underscores "
            "(at most 63, not starting with a digit), so every BI tool accepts it unquoted."
        )
    if name in {owner, bi_role(), "postgres"} or name.startswith("pg_"):
        raise SegmartError(f"{name!r} is reserved (the project owner, the BI role or a system role); pick another.")


def add_login(pg: psycopg2.extensions.connection, name: str, *, reset_password: bool = False) -> NewLogin:
    """Create (or with ``reset_password`` re-key) a login in the read-only BI role."""
    owner = pg.info.user
    _check_name(name, owner)
    role = bi_role()
    password = secrets.token_urlsafe(PASSWORD_BYTES)
    verifier = psycopg2.extensions.encrypt_password(password, name, pg, "scram-sha-256")
    ident, role_ident = sql.Identifier(name), sql.Identifier(role)
    try:
        with pg.cursor() as cur:
            cur.execute("select 1 from pg_roles where rolname = %s", (role,))
            if cur.fetchone() is None:
                # the first `dbt build` grants it data_mart; until then the login can read nothing
                cur.execute(sql.SQL("create role {} nologin").format(role_ident))
            cur.execute("select rolsuper, rolcanlogin from pg_roles where rolname = %s", (name,))
            existing = cur.fetchone()
            if existing is not None and not reset_password:
                raise SegmartError(
                    f"The login {name!r} already exists. Pass --reset-password to give it a new password "
                    "(the old one stops working)."
                )
            if existing is not None and existing[0]:
                raise SegmartError(f"{name!r} is a superuser; a BI login must not be one. Pick another name.")
            verb = "alter" if existing is not None else "create"
            cur.execute(
                sql.SQL(verb + " role {} login nosuperuser nocreatedb nocreaterole noreplication password %s").format(
                    ident
                ),
                (verifier,),
            )
            cur.execute(sql.SQL("grant {} to {}").format(role_ident, ident))
            # belt and braces for tools that try to write: sessions start read-only, in data_mart
            cur.execute(sql.SQL("alter role {} set default_transaction_read_only = on").format(ident))
            cur.execute(sql.SQL("alter role {} set search_path = data_mart").format(ident))
        pg.commit()
    except psycopg2.errors.InsufficientPrivilege as exc:
        pg.rollback()
        raise SegmartError(
            f"The project's database user {owner!r} may not create logins ({exc.pgerror or exc}). "
            f"Ask an administrator to run: create role {name} login password '...' in role {role};"
        ) from exc
    except BaseException:
        pg.rollback()
        raise
    log.info("%s login %r in role %r", "re-keyed" if verb == "alter" else "created", name, role)
    return NewLogin(name=name, password=password, role=role)
