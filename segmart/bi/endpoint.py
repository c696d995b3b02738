"""Where a BI tool connects: host, port, database and whether TLS is on offer.

The host is, in order: ``--host``, ``SEGMART_BI_HOST``, the address the
embedded server was opened on (``db start --listen``; this machine's name
when it listens on every address), else the project's own connection host.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from urllib.parse import quote

from segmart.config import Connection

BI_HOST_VAR = "SEGMART_BI_HOST"
WILDCARDS = {"*", "0.0.0.0", "::"}


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    dbname: str
    tls: bool

    @property
    def server(self) -> str:
        """``host:port`` as Power BI's PostgreSQL connector and .pbids files take it."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def url(self, user: str) -> str:
        query = "?sslmode=require" if self.tls else ""
        return f"postgresql://{quote(user, safe='')}@{self.server}/{quote(self.dbname, safe='')}{query}"


def resolve(host: str | None = None) -> Endpoint:
    """The endpoint of the project's database as BI tools should see it."""
    from segmart import db
    from segmart.db import embedded

    conn: Connection = db.resolve()
    chosen = host or os.environ.get(BI_HOST_VAR)
    port, tls = conn.port, False
    if conn.embedded:
        network = embedded.network()
        if network.listen is not None:
            port, tls = network.port, True
            if not chosen:
                chosen = socket.gethostname() if network.listen in WILDCARDS else network.listen
    return Endpoint(host=chosen or conn.host, port=port, dbname=conn.dbname, tls=tls)


def describe(endpoint: Endpoint, user: str, role: str) -> str:
    """Connection details and per-tool notes, as ``bi info`` prints them."""
    ssl = "require (self-signed unless you installed your own certificate)" if endpoint.tls else "not offered"
    superset_query = "?sslmode=require" if endpoint.tls else ""
    lines = [
        f"host      {endpoint.host}",
        f"port      {endpoint.port}",
        f"database  {endpoint.dbname}",
        f"user      {user}   (a login made by `bi add-user {user}`; role {role}: reads data_mart only)",
        f"ssl       {ssl}",
        f"url       {endpoint.url(user)}",
        "",
        "Power BI: `bi pbids` writes segmart.pbids (double-click it), or Get data -> PostgreSQL database,",
        f"  server {endpoint.server}, database {endpoint.dbname}, Import; `bi m` prints the Power Query M.",
        "Yandex DataLens: Connections -> PostgreSQL; its form suggests port 6432, enter "
        f"{endpoint.port}. Cloud DataLens connects",
        "  from Yandex Cloud, so the server must be reachable from the internet (db start --listen, firewall);",
        "  DataLens on your own network needs only the LAN address.",
        "Metabase: Admin -> Databases -> PostgreSQL with the values above"
        + ("; turn on 'Use a secure connection (SSL)'." if endpoint.tls else "."),
        "  It imports column comments as field descriptions: 'Sync database schema' after a build.",
        f"Superset: SQLAlchemy URI postgresql+psycopg2://{user}:<password>@{endpoint.server}/{endpoint.dbname}"
        + superset_query,
    ]
    return "\n".join(lines) + "\n"
