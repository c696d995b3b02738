"""Power BI: a ``.pbids`` data-source file and the Power Query M expression.

A ``.pbids`` file is JSON holding one connection; double-clicking it opens
Power BI Desktop at the PostgreSQL connector with server and database filled
in, in Import mode. Credentials are never in it: Power BI asks for them.
"""

from __future__ import annotations

import json
from pathlib import Path

from segmart.bi.endpoint import Endpoint

PBIDS_VERSION = "0.1"


def document(endpoint: Endpoint) -> dict[str, object]:
    return {
        "version": PBIDS_VERSION,
        "connections": [
            {
                "details": {
                    "protocol": "postgresql",
                    "address": {"server": endpoint.server, "database": endpoint.dbname},
                },
                "options": {},
                "mode": "Import",
            }
        ],
    }


def write(endpoint: Endpoint, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document(endpoint), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def m_expression(endpoint: Endpoint, table: str | None = None) -> str:
    """``PostgreSQL.Database("host:port", "db")``, navigated to a data_mart table when one is given."""
    source = f"PostgreSQL.Database({json.dumps(endpoint.server)}, {json.dumps(endpoint.dbname)})"
    if table is None:
        return f"let\n    Source = {source}\nin\n    Source\n"
    return (
        "let\n"
        f"    Source = {source},\n"
        f'    Mart = Source{{[Schema = "data_mart", Item = {json.dumps(table)}]}}[Data]\n'
        "in\n"
        "    Mart\n"
    )
