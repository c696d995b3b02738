"""What the main job runs, from what changed since its last successful build (segmart.build_state)."""

from __future__ import annotations

from pathlib import Path

import psycopg2.extensions

from loaders.formats import BANK_FORMATS, SALES_FORMATS
from loaders.load import load_files
from pytests.corpus import GOOD, row, uci
from segmart import build_state
from segmart.generate import generate_bank


def _land(pg: psycopg2.extensions.connection, path: Path, *, bank: bool = False) -> None:
    [result] = load_files(pg, [path], BANK_FORMATS if bank else SALES_FORMATS)
    assert result.status in ("loaded", "duplicate"), result.error


def test_nothing_new_skips_dbt_and_untouched_bank_loads_leave_the_bank_models_out(
    clean_pg: psycopg2.extensions.connection, tmp_path: Path
) -> None:
    pg = clean_pg
    sales = tmp_path / "sales.csv"
    sales.write_text(uci(GOOD))
    generate_bank(tmp_path / "bank", clients=50, usages=200, seed=3)
    _land(pg, sales)
    _land(pg, tmp_path / "bank" / "clients.csv", bank=True)

    plan, _ = build_state.plan(pg, full_refresh=False)
    assert (plan.run_dbt, plan.exclude) == (True, [])  # never built
    with pg.cursor() as cur:
        cur.execute("create schema if not exists data_mart; create table data_mart.some_mart (x int)")
    pg.commit()
    build_state.record(pg, build_state.current(pg))

    plan, _ = build_state.plan(pg, full_refresh=False)
    assert (plan.run_dbt, plan.exclude) == (False, [])
    assert build_state.plan(pg, full_refresh=True)[0].run_dbt

    _land(pg, sales)  # a re-sent file is skipped by its hash: still nothing new
    assert not build_state.plan(pg, full_refresh=False)[0].run_dbt

    later = tmp_path / "later.csv"
    later.write_text(uci([row(InvoiceNo="600001")]))
    _land(pg, later)
    plan, _ = build_state.plan(pg, full_refresh=False)
    assert plan.run_dbt
    assert plan.exclude == build_state.UNCHANGED_PROJECT_SELECTORS + build_state.BANK_SELECTORS
    build_state.record(pg, build_state.current(pg))

    _land(pg, tmp_path / "bank" / "product_usage.csv", bank=True)
    plan, _ = build_state.plan(pg, full_refresh=False)
    assert (plan.run_dbt, plan.exclude) == (True, build_state.UNCHANGED_PROJECT_SELECTORS)
    build_state.record(pg, build_state.current(pg))

    # a load removed from staging, or a mart dropped, is a change too
    newest = "(select max(load_id) from staging.load_batches where target = 'sales_uci_lines')"
    with pg.cursor() as cur:
        cur.execute(f"delete from staging.sales_uci_lines where load_id = {newest}")
        cur.execute(f"delete from staging.load_batches where load_id = {newest}")
    pg.commit()
    assert build_state.plan(pg, full_refresh=False)[0].run_dbt
    build_state.record(pg, build_state.current(pg))
    with pg.cursor() as cur:
        cur.execute("drop table data_mart.some_mart")
    pg.commit()
    assert build_state.plan(pg, full_refresh=False)[0].run_dbt

    build_state.record(pg, build_state.current(pg))
    build_state.forget(pg)  # a failed build forgets: the next one runs everything
    assert build_state.plan(pg, full_refresh=False)[0].reason == "no successful build recorded"


def test_project_digest_changes_with_any_model_file(tmp_path: Path) -> None:
    (tmp_path / "models" / "marts").mkdir(parents=True)
    (tmp_path / "dbt_project.yml").write_text("name: x\n")
    model = tmp_path / "models" / "marts" / "a.sql"
    model.write_text("select 1")
    first = build_state.project_digest(tmp_path)
    assert build_state.project_digest(tmp_path) == first
    model.write_text("select 2")
    second = build_state.project_digest(tmp_path)
    assert second != first
    model.rename(tmp_path / "models" / "marts" / "b.sql")
    assert build_state.project_digest(tmp_path) not in (first, second)
