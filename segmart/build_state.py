"""What a build must do, from what changed since the last successful one.

The state of a build is the content of the dbt project (models, macros, seeds,
tests, dbt_project.yml), the loads it was built from (per area: which loads
of which content), and the relations it left in ``data_mart``. The pipeline
compares the current state with the one it recorded after its last
successful build:

* nothing changed: dbt does not run at all (the marts are already built from
  exactly these loads by exactly this project);
* only the bank loads are unchanged: the bank models and their tests are left
  out of the run;
* the project is unchanged: seeds and staging views are not rebuilt (they
  hold no loaded data, and the last build left them in place; they read only
  the loaders' tables, which dbt never replaces); their tests still run.
  Other views stay in the run: replacing a table drops the views on it;
* anything else (or ``--full-refresh``, or no recorded state): everything runs.

The recorded state lives in ``ops.build_state`` (one row).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psycopg2
import psycopg2.extensions

from segmart.config import PROJECT_ROOT

log = logging.getLogger(__name__)

PROJECT_PARTS = ("dbt_project.yml", "models", "macros", "seeds", "tests")
# staging targets of each area, and the dbt selectors of the area's own nodes
AREAS = {
    "sales": ("sales_uci_lines", "sales_onec_lines"),
    "bank": ("bank_clients", "bank_product_usage"),
}
# what an unchanged project need not rebuild: no loaded data, and nothing dbt
# replaces underneath (dbt drops the old copy of a rebuilt table with cascade,
# and with it the views on it, so views over dbt's tables must be rebuilt too)
UNCHANGED_PROJECT_SELECTORS = ["resource_type:seed", "path:models/staging"]
BANK_SELECTORS = [
    "path:models/staging/bank",
    "path:models/intermediate/bank",
    "path:models/marts/bank",
    "path:tests/singular/bank",
]

DDL = """
create schema if not exists ops;
create table if not exists ops.build_state (
    singleton boolean primary key default true check (singleton),
    state jsonb not null,
    recorded_at timestamptz not null default clock_timestamp()
)
"""


@dataclass(frozen=True)
class State:
    project: str
    loads: dict[str, str] = field(default_factory=dict)  # area -> digest of its loads
    marts: str = ""  # digest of the relations in the schemas dbt builds


@dataclass(frozen=True)
class Plan:
    run_dbt: bool
    exclude: list[str]
    reason: str


def project_digest(root: Path = PROJECT_ROOT) -> str:
    """SHA-256 over the names and contents of the dbt project's files."""
    digest = hashlib.sha256()
    for part in PROJECT_PARTS:
        path = root / part
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if not file.is_file():
                continue
            digest.update(str(file.relative_to(root)).encode() + b"\0")
            digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()


def _digest(rows: list[tuple]) -> str:
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def current(pg: psycopg2.extensions.connection) -> State:
    with pg.cursor() as cur:
        loads = {}
        for area, targets in AREAS.items():
            cur.execute(
                "select load_id, target, file_sha256 from staging.load_batches where target = any(%s) order by 1",
                (list(targets),),
            )
            loads[area] = _digest(cur.fetchall())
        cur.execute(
            "select n.nspname, c.relname, c.relkind"
            " from pg_class as c inner join pg_namespace as n on n.oid = c.relnamespace"
            " where n.nspname in ('stg', 'intermediate', 'data_mart', 'data_mart_build')"
            " and c.relkind in ('r', 'v', 'm', 'p')"
            " order by n.nspname, c.relname"
        )
        marts = _digest(cur.fetchall())
    pg.rollback()
    return State(project=project_digest(), loads=loads, marts=marts)


def recorded(pg: psycopg2.extensions.connection) -> State | None:
    with pg.cursor() as cur:
        cur.execute("select to_regclass('ops.build_state') is not null")
        if not cur.fetchone()[0]:
            pg.rollback()
            return None
        cur.execute("select state from ops.build_state")
        row = cur.fetchone()
    pg.rollback()
    if row is None:
        return None
    try:
        return State(**row[0])
    except TypeError:
        return None  # recorded by another version: treat as unknown


def record(pg: psycopg2.extensions.connection, state: State) -> None:
    with pg.cursor() as cur:
        cur.execute(DDL)
        cur.execute(
            "insert into ops.build_state (state) values (%s) on conflict (singleton) do update"
            " set state = excluded.state, recorded_at = clock_timestamp()",
            (json.dumps(asdict(state)),),
        )
    pg.commit()


def forget(pg: psycopg2.extensions.connection) -> None:
    """Drop the recorded state (a build failed or ran partly): the next build runs everything."""
    with pg.cursor() as cur:
        cur.execute("select to_regclass('ops.build_state') is not null")
        if cur.fetchone()[0]:
            cur.execute("delete from ops.build_state")
    pg.commit()


def plan(pg: psycopg2.extensions.connection, *, full_refresh: bool) -> tuple[Plan, State]:
    now = current(pg)
    if full_refresh:
        return Plan(True, [], "full refresh"), now
    last = recorded(pg)
    if last is None:
        return Plan(True, [], "no successful build recorded"), now
    if last.project != now.project:
        return Plan(True, [], "the dbt project changed"), now
    if last.marts != now.marts:
        return Plan(True, [], "the built relations differ from the last build"), now
    changed = [area for area in AREAS if last.loads.get(area) != now.loads.get(area)]
    if not changed:
        return Plan(False, [], "nothing new landed and the project is unchanged since the last build"), now
    exclude = list(UNCHANGED_PROJECT_SELECTORS)
    reason = f"new loads: {', '.join(changed)}; the project is unchanged: seeds and staging views stay"
    if "bank" not in changed:
        exclude += BANK_SELECTORS
        reason += "; no new bank load: the bank models are left out"
    return Plan(True, exclude, reason), now
