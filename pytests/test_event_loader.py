"""The event-log loader against a real PostgreSQL: header spellings, optional columns,
quarantine with reasons, re-sent files, both paths landing the same rows.

Expected values come from the rows each test writes, never from what the loader produced.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import psycopg2.extensions
import pytest

from loaders.formats import EVENT_FORMATS, SALES_FORMATS
from loaders.load import load_files
from pytests.support.db import rows, scalar
from pytests.support.runs import run_cli

COLUMNS = "user_id, event_time, event_type, value, category, city, gender, age, child_age"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _landed(pg: psycopg2.extensions.connection) -> list[tuple]:
    return rows(pg, f"select {COLUMNS} from staging.events order by line_number")


@pytest.mark.parametrize("checked", [False, True], ids=["fast", "checked"])
def test_a_tracker_export_with_other_spellings_and_fewer_columns_lands_under_the_known_columns(
    clean_pg: psycopg2.extensions.connection, tmp_path: Path, checked: bool
) -> None:
    path = _write(
        tmp_path / "tracker.csv",
        "Timestamp;Visitor_ID;Event;Revenue;Sex;Referrer\n"
        "2024-03-01 10:00:05;u-17;view;;F;ads\n"
        "2024-03-01 10:02:00;u-17;purchase;19.90;F;ads\n",
    )
    [result] = load_files(clean_pg, [path], EVENT_FORMATS, checked=checked)
    assert (result.status, result.rows_loaded, result.rows_quarantined) == ("loaded", 2, 0)
    # the unknown Referrer column is not landed; the absent optional ones are NULL
    assert _landed(clean_pg) == [
        ("u-17", datetime(2024, 3, 1, 10, 0, 5), "view", None, None, None, "F", None, None),
        ("u-17", datetime(2024, 3, 1, 10, 2), "purchase", Decimal("19.90"), None, None, "F", None, None),
    ]


@pytest.mark.parametrize("checked", [False, True], ids=["fast", "checked"])
def test_bad_rows_are_quarantined_with_the_column_and_the_problem(
    clean_pg: psycopg2.extensions.connection, tmp_path: Path, checked: bool
) -> None:
    path = _write(
        tmp_path / "events.csv",
        "user_id,event_time,event_type,value,category,city,gender,age,child_age\n"
        "1,2024-01-01 09:00:00,view,,kids,Omsk,F,31,4\n"
        "2,yesterday,view,,,,,,\n"
        "3,2024-01-01 09:05:00,purchase,12.x,,,,,\n"
        "4,2024-01-01 09:06:00,view,,,,,thirty,\n"
        ",2024-01-01 09:07:00,view,,,,,,\n",
    )
    [result] = load_files(clean_pg, [path], EVENT_FORMATS, checked=checked)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (5, 1, 4)
    assert scalar(clean_pg, "select rows_read - rows_loaded - rows_quarantined from staging.load_batches") == 0
    reasons = dict(rows(clean_pg, "select line_number, reason from staging.load_quarantine"))
    assert sorted(reasons) == [3, 4, 5, 6]
    # the reason names the column (as the file or the format spells it) and the value
    assert "event_time" in reasons[3] and "yesterday" in reasons[3]
    assert "value" in reasons[4] and "12.x" in reasons[4]
    assert "age" in reasons[5] and "thirty" in reasons[5]
    assert "user_id" in reasons[6]
    assert _landed(clean_pg) == [
        ("1", datetime(2024, 1, 1, 9), "view", None, "kids", "Omsk", "F", 31, 4),
    ]


def test_a_header_without_the_required_columns_is_refused_naming_the_missing_ones(
    clean_pg: psycopg2.extensions.connection, tmp_path: Path
) -> None:
    path = _write(tmp_path / "clicks.csv", "user_id,page,value\n1,/home,\n")
    result = run_cli("events", str(path), check=False)
    assert result.returncode != 0
    assert f"{path}, line 1:" in result.stderr
    assert "missing event_time, event_type" in result.stderr
    assert scalar(clean_pg, "select count(*) from staging.load_batches") == 0


def test_an_event_log_given_to_the_sales_loader_says_where_it_belongs(
    clean_pg: psycopg2.extensions.connection, tmp_path: Path
) -> None:
    path = _write(tmp_path / "log.csv", "user_id,event_time,event_type\n1,2024-01-01 00:00:00,view\n")
    result = run_cli("sales", str(path), check=False)
    assert result.returncode != 0
    assert "it is an event log CSV: load it with `python3 run.py events FILE`" in result.stderr
    assert "data/inbox/events/" in result.stderr


def test_the_same_file_again_is_skipped_and_duplicates_land_as_read(
    clean_pg: psycopg2.extensions.connection, tmp_path: Path
) -> None:
    text = (
        "user_id,event_time,event_type,value\n"
        "7,2024-05-05 12:00:00,purchase,10.00\n"
        "7,2024-05-05 12:00:00,purchase,10.00\n"
    )
    first = _write(tmp_path / "a.csv", text)
    again = _write(tmp_path / "a_copy.csv", text)
    [landed] = load_files(clean_pg, [first], EVENT_FORMATS)
    [skipped] = load_files(clean_pg, [again], EVENT_FORMATS)
    assert landed.rows_loaded == 2  # exact duplicates are the marts' business (event_load_audit)
    assert skipped.status == "duplicate"
    assert scalar(clean_pg, "select count(*) from staging.events") == 2
    assert scalar(clean_pg, "select count(*) from staging.load_batches") == 1


def test_sales_formats_do_not_take_an_event_log(clean_pg: psycopg2.extensions.connection, tmp_path: Path) -> None:
    path = _write(tmp_path / "e.csv", "user_id,event_time,event_type\n1,2024-01-01 00:00:00,view\n")
    [result] = load_files(clean_pg, [path], SALES_FORMATS)
    assert result.status == "failed" and result.unusable


def test_an_event_log_in_the_inbox_lands_and_is_archived(
    clean_pg: psycopg2.extensions.connection, tmp_path: Path
) -> None:
    """Dropped into inbox/events/ (or at the top of the inbox, recognised by its header)."""
    from pytests.support.ops import Folders, segmart

    user = Folders(tmp_path / "user")
    text = "user_id,event_time,event_type,value\n5,2024-02-02 08:00:00,view,\n5,2024-02-02 08:03:00,purchase,7.50\n"
    user.drop("events", _write(tmp_path / "shop.csv", text))
    top = user.inbox / "app.csv"
    top.write_text(text.replace("2024-02-02", "2024-02-03"), encoding="utf-8")
    result = segmart(user, "land")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "app.csv at the top of the inbox is an event log: landing it as one" in result.stderr
    assert rows(clean_pg, "select file_name, rows_loaded from staging.load_batches order by file_name") == [
        ("app.csv", 2),
        ("shop.csv", 2),
    ]
    assert sorted(p.name for p in user.archive.rglob("*.csv")) == ["app.csv", "shop.csv"]
    assert all(p.parent.name == "events" for p in user.archive.rglob("*.csv"))
