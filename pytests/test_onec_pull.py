"""The 1C pull against a 1C OData stub on 127.0.0.1 and a real PostgreSQL.

The stub serves the generator's 1C export as 1C would (catalogs, orders, sales,
returns); the expected rows are what the same export lands as a CSV file. The
tests change the base as 1C users do and inject the faults a night meets.
"""

from __future__ import annotations

import base64
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import psycopg2.extensions
import pytest

from loaders.formats import SALES_FORMATS
from loaders.load import load_files
from pytests.support.db import LINEAGE_COLUMNS, mart_checksums, reset_database, rows, scalar
from pytests.support.files import onec_rows
from pytests.support.onec_stub import RETURNS, SALES, Fault, OnecBase, OnecStub, ref
from pytests.support.ops import Folders, segmart
from pytests.support.ops import Stub as AlertStub
from pytests.support.runs import SALES_MARTS_BUILD, run_cli, run_dbt
from segmart.generate import generate_sales
from segmart.onec.client import OnecError
from segmart.onec.pull import pull
from segmart.onec.settings import OnecSettings

ONEC_DATA = (
    "date, sale_id, order_date, order_id, buyer, contractor, site_id, product, feature, quantity, sum, "
    "address, cash_flow_type"
)
PAGE = 25


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("onec") / "realizaciya.csv"
    generate_sales(path, fmt="onec", rows=3_000, customers=150, days=60, seed=19)
    return path


@pytest.fixture
def stub(export: Path):
    with OnecStub(OnecBase.from_export(export)) as served:
        yield served


def settings_of(stub: OnecStub, **overrides: object) -> OnecSettings:
    values: dict[str, object] = {
        "base_url": stub.url,
        "user": stub.user,
        "password": stub.password,
        "lookback_days": 7,
        "page_size": PAGE,
        "timeout": 5.0,
        "retries": 2,
        "backoff": 0.01,
    }
    values.update(overrides)
    return OnecSettings(**values)  # type: ignore[arg-type]


def landed(pg: psycopg2.extensions.connection, load_id: int | None = None) -> list[tuple]:
    where = "" if load_id is None else f"where load_id = {int(load_id)}"
    return sorted(rows(pg, f"select {ONEC_DATA} from staging.sales_onec_lines {where}"), key=repr)


def csv_landed(pg: psycopg2.extensions.connection, export: Path) -> list[tuple]:
    reset_database(pg)
    (result,) = load_files(pg, [export], SALES_FORMATS)
    assert result.status == "loaded"
    return landed(pg)


def test_a_pull_lands_the_rows_of_the_equivalent_csv_export_as_one_load(
    clean_pg: psycopg2.extensions.connection, stub: OnecStub, export: Path
) -> None:
    result = pull(clean_pg, settings_of(stub))

    _, data = onec_rows(export)
    assert result.status == "loaded" and result.load is not None
    assert result.stats.lines == result.load.rows_loaded == len(data)
    assert result.load.rows_quarantined == 0
    batches = rows(clean_pg, "select load_id, source_format, file_name, rows_read from staging.load_batches")
    assert len(batches) == 1 and batches[0][1] == "onec" and batches[0][2].startswith("onec-pull-")
    assert batches[0][3] == len(data)
    assert result.requests == len(stub.seen)
    pulled = landed(clean_pg)
    assert pulled == csv_landed(clean_pg, export)
    returns = {row[1] for row in pulled if row[-1] == "возврат"}
    assert returns and returns == {d["Number"] for d in stub.base.entities[RETURNS]}


def test_pages_and_percent_encoded_cyrillic_names(clean_pg: psycopg2.extensions.connection, stub: OnecStub) -> None:
    pull(clean_pg, settings_of(stub))

    assert all(seen.raw_path.isascii() for seen in stub.seen)
    assert any("%D0%A0%D0%B5%D0%B0%D0%BB%D0%B8%D0%B7%D0%B0%D1%86%D0%B8%D1%8F" in s.raw_path for s in stub.seen)
    sales = stub.requests_of(SALES)
    documents = len(stub.base.entities[SALES])
    assert documents > 3 * PAGE
    assert [int(s.params["$skip"]) for s in sales] == list(range(0, documents + 1, PAGE))[: len(sales)]
    assert len(sales) == documents // PAGE + 1
    assert {s.params["$top"] for s in stub.seen} == {str(PAGE)}
    assert all(s.params["$format"] == "json" for s in stub.seen)
    assert unquote(sales[0].raw_path).split("?")[0].endswith("/" + SALES)


def test_a_5xx_in_the_middle_of_the_pages_is_retried_and_the_pull_completes(
    clean_pg: psycopg2.extensions.connection, stub: OnecStub, export: Path
) -> None:
    stub.faults.append(Fault(SALES, skip=2 * PAGE, status=500))
    stub.faults.append(Fault("Catalog_Номенклатура", skip=4 * PAGE, status=503))

    result = pull(clean_pg, settings_of(stub))

    assert [s.params["$skip"] for s in stub.requests_of(SALES)].count(str(2 * PAGE)) == 2
    assert landed(clean_pg) == csv_landed(clean_pg, export)
    assert result.status == "loaded"


def test_a_failure_on_page_7_leaves_no_load_and_the_previous_data_alone(
    clean_pg: psycopg2.extensions.connection, stub: OnecStub
) -> None:
    pull(clean_pg, settings_of(stub))
    before = landed(clean_pg)
    stub.faults.append(Fault(SALES, skip=6 * 10, status=500, times=99))
    for document in stub.base.latest(3):
        for row in document["Товары"]:
            row["Количество"] *= 2
    # the next pull reads the window again; make it long enough to reach page 7
    with pytest.raises(OnecError) as failure:
        pull(clean_pg, settings_of(stub, lookback_days=365, page_size=10))

    message = str(failure.value)
    assert SALES in message and "HTTP 500" in message and "3 attempt(s)" in message and "Nothing" in message
    assert scalar(clean_pg, "select count(*) from staging.load_batches") == 1
    assert landed(clean_pg) == before
    assert rows(clean_pg, "select status, load_id is null from ops.onec_pulls order by pull_id") == [
        ("loaded", False),
        ("failed", True),
    ]
    assert "HTTP 500" in scalar(clean_pg, "select error_text from ops.onec_pulls where status = 'failed'")


def test_a_slow_page_past_the_timeout_is_retried_and_a_dead_slow_one_says_timeout(
    clean_pg: psycopg2.extensions.connection, stub: OnecStub
) -> None:
    stub.faults.append(Fault(SALES, skip=PAGE, delay=1.5))
    result = pull(clean_pg, settings_of(stub, timeout=0.5))
    assert result.status == "loaded"
    assert [s.params["$skip"] for s in stub.requests_of(SALES)].count(str(PAGE)) == 2

    stub.faults.append(Fault(RETURNS, skip=0, delay=1.5, times=99))
    with pytest.raises(OnecError) as failure:
        pull(clean_pg, settings_of(stub, timeout=0.5, retries=1))
    assert "timed out" in str(failure.value) and "SEGMART_ONEC_TIMEOUT=0.5" in str(failure.value)
    assert scalar(clean_pg, "select count(*) from staging.load_batches") == 1


def test_401_names_the_settings_and_never_the_password(
    clean_pg: psycopg2.extensions.connection, stub: OnecStub
) -> None:
    wrong = "wrong-password-Секрет"
    with pytest.raises(OnecError) as failure:
        pull(clean_pg, settings_of(stub, password=wrong))

    message = str(failure.value)
    assert "401" in message and "SEGMART_ONEC_USER" in message and "SEGMART_ONEC_PASSWORD" in message
    token = base64.b64encode(f"{stub.user}:{wrong}".encode()).decode()
    assert wrong not in message and token not in message
    assert len(stub.seen) == 1  # a 401 is not retried
    error_text = scalar(clean_pg, "select error_text from ops.onec_pulls")
    assert "401" in error_text and wrong not in error_text


def test_404_says_how_to_publish_the_object(clean_pg: psycopg2.extensions.connection, stub: OnecStub) -> None:
    stub.unpublished.add(RETURNS)

    with pytest.raises(OnecError) as failure:
        pull(clean_pg, settings_of(stub))

    message = str(failure.value)
    assert "404" in message and RETURNS in message
    assert "Настройка стандартного интерфейса OData" in message


def test_an_answer_of_unexpected_shape_names_what_is_missing(
    clean_pg: psycopg2.extensions.connection, stub: OnecStub
) -> None:
    del stub.base.entities[SALES][3]["Posted"]

    with pytest.raises(OnecError) as failure:
        pull(clean_pg, settings_of(stub))

    assert "unexpected answer" in str(failure.value) and "Posted" in str(failure.value)
    assert scalar(clean_pg, "select count(*) from staging.load_batches") == 0


def _window_start(stub: OnecStub, lookback: int) -> date:
    newest = max(datetime.fromisoformat(d["Date"]) for d in stub.base.documents())
    return newest.date() - timedelta(days=lookback)


def test_the_next_pull_rereads_the_window_and_lands_the_withdrawn_documents(
    clean_pg: psycopg2.extensions.connection, stub: OnecStub
) -> None:
    pull(clean_pg, settings_of(stub))
    reposted, unposted, deleted = stub.base.latest(3)
    for row in reposted["Товары"]:
        row["Количество"] *= 2
        row["СуммаСНДС"] *= 2
    unposted["Posted"] = False
    deleted["DeletionMark"] = True
    stub.seen.clear()

    second = pull(clean_pg, settings_of(stub))

    since = _window_start(stub, 7)
    assert second.since == since
    assert {s.params.get("$filter") for s in stub.requests_of(SALES)} == {f"Date ge datetime'{since}T00:00:00'"}
    window = [d for d in stub.base.documents() if d["Date"] >= since.isoformat()]
    posted = [d for d in window if d["Posted"] and not d["DeletionMark"]]
    assert second.stats.documents == len(window)
    assert second.load is not None and second.load.load_id == 2
    assert second.load.rows_loaded == sum(len(d["Товары"]) for d in posted)
    assert rows(clean_pg, "select load_id, sale_id, reason from staging.onec_withdrawn_documents order by reason") == [
        (2, deleted["Number"], "marked_for_deletion"),
        (2, unposted["Number"], "unposted"),
    ]
    quantities = rows(
        clean_pg,
        "select load_id, sum(quantity) from staging.sales_onec_lines where sale_id = %s group by 1 order by 1",
        (reposted["Number"],),
    )
    assert quantities[1][1] == 2 * quantities[0][1]


def test_a_pull_that_finds_nothing_new_lands_nothing(clean_pg: psycopg2.extensions.connection, stub: OnecStub) -> None:
    pull(clean_pg, settings_of(stub))
    pull(clean_pg, settings_of(stub))
    third = pull(clean_pg, settings_of(stub))
    assert third.status == "unchanged"
    assert scalar(clean_pg, "select count(*) from staging.load_batches") == 2
    # the same lines with one more document withdrawn are a new load, not a re-send
    latest = stub.base.latest(1, entity=RETURNS)[0]
    stub.base.entities[RETURNS].append(dict(latest, Ref_Key=ref("document", "ВК-1"), Number="ВК-1", Posted=False))
    fourth = pull(clean_pg, settings_of(stub))
    assert fourth.status == "loaded" and fourth.load is not None
    assert landed(clean_pg, fourth.load.load_id) == landed(clean_pg, third.load.duplicate_of)


def test_rows_that_do_not_fit_are_quarantined_with_the_reason(
    clean_pg: psycopg2.extensions.connection, stub: OnecStub, export: Path
) -> None:
    document = stub.base.entities[SALES][5]
    document["Товары"][0]["Количество"] = "много"
    document["Товары"][1]["Номенклатура_Key"] = "11111111-2222-3333-4444-555555555555"

    result = pull(clean_pg, settings_of(stub))

    _, data = onec_rows(export)
    assert result.load is not None
    assert (result.load.rows_read, result.load.rows_quarantined) == (len(data), 2)
    reasons = sorted(reason for (reason,) in rows(clean_pg, "select reason from staging.load_quarantine"))
    assert reasons[0].startswith("product: empty required field")
    assert reasons[1].startswith("quantity: not a number")
    assert scalar(clean_pg, "select rows_quarantined from staging.load_batches") == 2


def test_cli_pull_onec_archives_the_spool_and_keeps_the_password_out_of_its_output(
    clean_pg: psycopg2.extensions.connection, stub: OnecStub, tmp_path: Path
) -> None:
    folders = Folders(tmp_path)
    ok = segmart(folders, "pull", "onec", **stub.env())
    assert ok.returncode == 0, ok.stderr
    assert "1C pull" in ok.stderr and stub.password not in ok.stderr
    assert len(list(folders.archive.glob("*/onec/onec-pull-*.csv"))) == 1

    wrong = segmart(folders, "pull", "onec", **stub.env(SEGMART_ONEC_PASSWORD="Другой-пароль-1"))
    assert wrong.returncode == 2
    assert "SEGMART_ONEC_PASSWORD" in wrong.stderr and "Другой-пароль-1" not in wrong.stderr
    assert base64.b64encode(f"{stub.user}:Другой-пароль-1".encode()).decode() not in wrong.stderr

    unset = segmart(folders, "pull", "onec", SEGMART_ONEC_URL="")
    assert unset.returncode == 2 and "SEGMART_ONEC_URL" in unset.stderr


# ---------------------------------------------------------------- the marts (dbt)


@pytest.mark.slow
def test_marts_from_a_pull_equal_marts_from_the_csv_export(
    clean_pg: psycopg2.extensions.connection, stub: OnecStub, export: Path, dbt_dir: Path
) -> None:
    pull(clean_pg, settings_of(stub))
    run_dbt(*SALES_MARTS_BUILD, tmp_target=dbt_dir)
    pulled = mart_checksums(clean_pg, ignore_columns=LINEAGE_COLUMNS)
    reset_database(clean_pg)
    run_cli("sales", str(export))
    run_dbt(*SALES_MARTS_BUILD, tmp_target=dbt_dir)

    assert not pulled["sales_lines"].startswith("0:")
    assert pulled == mart_checksums(clean_pg, ignore_columns=LINEAGE_COLUMNS)


def _goods_total(document: dict) -> tuple[int, object]:
    return len(document["Товары"]), sum(row["СуммаСНДС"] for row in document["Товары"])


@pytest.mark.slow
def test_reposted_unposted_and_deleted_documents_reach_the_marts_as_in_1c(
    clean_pg: psycopg2.extensions.connection, stub: OnecStub, dbt_dir: Path
) -> None:
    def document_in_marts(number: str) -> tuple[int, object]:
        found = rows(
            clean_pg,
            "select count(*), sum(net_amount) from data_mart.sales_lines where document_key = %s",
            (f"onec|{number}",),
        )[0]
        return found[0], found[1]

    pull(clean_pg, settings_of(stub))
    run_dbt(*SALES_MARTS_BUILD, tmp_target=dbt_dir)
    reposted, unposted, deleted = stub.base.latest(3)
    returned = stub.base.latest(1, entity=RETURNS)[0]
    assert document_in_marts(unposted["Number"])[0] == len(unposted["Товары"]) > 0
    # 1C keeps a return's quantities and amounts positive; the marts sign them
    count, amount = _goods_total(returned)
    assert document_in_marts(returned["Number"]) == (count, -amount)

    reposted["Товары"] = reposted["Товары"][:-1] if len(reposted["Товары"]) > 1 else reposted["Товары"]
    for row in reposted["Товары"]:
        row["Количество"] *= 3
        row["СуммаСНДС"] *= 3
    unposted["Posted"] = False
    deleted["DeletionMark"] = True
    pull(clean_pg, settings_of(stub))
    run_dbt(*SALES_MARTS_BUILD, tmp_target=dbt_dir)

    assert document_in_marts(reposted["Number"]) == _goods_total(reposted)
    assert document_in_marts(unposted["Number"]) == (0, None)
    assert document_in_marts(deleted["Number"]) == (0, None)
    audit = dict(rows(clean_pg, "select line_status, line_count from data_mart.sales_line_audit"))
    assert audit["withdrawn_at_source"] == len(unposted["Товары"]) + len(deleted["Товары"])
    staged, classified = rows(
        clean_pg, "select distinct source_staged_rows, source_classified_rows from data_mart.sales_line_audit"
    )[0]
    assert staged == classified
    daily = mart_checksums(clean_pg, build_independent=True)
    run_dbt(*SALES_MARTS_BUILD, "--full-refresh", tmp_target=dbt_dir)
    assert mart_checksums(clean_pg, build_independent=True) == daily

    # posted again in 1C: back in the marts on the next pull
    unposted["Posted"] = True
    pull(clean_pg, settings_of(stub))
    run_dbt(*SALES_MARTS_BUILD, tmp_target=dbt_dir)
    assert document_in_marts(unposted["Number"]) == _goods_total(unposted)


# ---------------------------------------------------------------- in the nightly job


def test_land_with_a_failing_pull_lands_the_inbox_alerts_why_and_exits_partial(
    clean_pg: psycopg2.extensions.connection, stub: OnecStub, export: Path, tmp_path: Path
) -> None:
    folders = Folders(tmp_path)
    folders.drop("sales", export)
    wrong = "Неверный-пароль-42"
    with AlertStub() as alerts:
        result = segmart(
            folders,
            "land",
            **stub.env(SEGMART_ONEC_PASSWORD=wrong),
            SEGMART_ALERT_URLS=f"json://127.0.0.1:{alerts.port}/hook",
        )

    assert result.returncode == 1, result.stderr[-3000:]
    assert list(folders.archive.rglob(export.name)), "the inbox is landed as without the pull"
    assert scalar(clean_pg, "select count(*) from staging.load_batches") == 1
    status, error_text = rows(clean_pg, "select status, error_text from ops.build_runs order by run_id desc")[0]
    assert status == "partial" and "1C pull failed" in error_text and "401" in error_text
    (message,) = alerts.received
    assert "1C pull failed" in message["message"] and "SEGMART_ONEC_PASSWORD" in message["message"]
    token = base64.b64encode(f"{stub.user}:{wrong}".encode()).decode()
    logs = [p.read_text(encoding="utf-8") for p in folders.logs.glob("*.log")]
    for text in (result.stderr, result.stdout, error_text, repr(message), *logs):
        assert wrong not in text and token not in text


@pytest.mark.slow
def test_build_with_SEGMART_ONEC_URL_pulls_first_and_builds_the_marts(
    clean_pg: psycopg2.extensions.connection, stub: OnecStub, export: Path, tmp_path: Path
) -> None:
    folders = Folders(tmp_path)
    result = segmart(folders, "build", "--no-report", **stub.env())

    assert result.returncode == 0, result.stderr[-3000:]
    _, data = onec_rows(export)
    run = rows(
        clean_pg, "select status, used_sample, files_landed, rows_loaded from ops.build_runs order by run_id desc"
    )[0]
    assert run == ("success", False, 1, len(data))
    assert rows(clean_pg, "select status, lines from ops.onec_pulls") == [("loaded", len(data))]
    staged, classified = rows(
        clean_pg,
        "select distinct source_staged_rows, source_classified_rows from data_mart.sales_line_audit "
        "where source_system = 'onec'",
    )[0]
    assert staged == classified == len(data)
    assert scalar(clean_pg, "select count(*) from data_mart.sales_lines where source_system = 'onec'") > 0
    assert len(list(folders.archive.glob("*/onec/onec-pull-*.csv"))) == 1
