"""A new user's careless inputs: every mistake is one line, exit 2, no traceback, and says what to do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg2.extensions
import pytest

from loaders.formats import BANK_FORMATS, SALES_FORMATS
from loaders.reader import FileProblem, detect_layout
from pytests.corpus import UCI_HEADER, csv_text, uci
from pytests.support import ROOT
from pytests.support.db import scalar
from pytests.support.runs import run_cli

GOOD_ROW = ["536365", "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", "6", "12/1/2010 8:26", "2.55", "17850", "UK"]


def _bad(*args: str) -> list[str]:
    return list(args)


# Every sub-command, given something wrong. FILE is replaced by a real CSV path.
BAD_ARGUMENTS = [
    _bad("sales", "--delimiter", ";;", "FILE"),
    _bad("sales", "--encoding", "no-such-encoding", "FILE"),
    _bad("sales", "--format", "xls", "FILE"),
    _bad("sales"),
    _bad("bank", "--delimiter", "", "FILE"),
    _bad("bank", "--format", "uci", "FILE"),
    _bad("build", "--keep", "0"),
    _bad("build", "--lang", "klingon"),
    _bad("build", "--csv-delimiter", "x"),
    _bad("build", "--no-such-flag"),
    _bad("report", "--keep", "many"),
    _bad("report", "--lang", "xx"),
    _bad("generate", "sales", "--rows", "lots", "OUT"),
    _bad("generate", "sales", "--delimiter", ";;", "OUT"),
    _bad("generate", "sales", "--encoding", "nope", "OUT"),
    _bad("generate", "sales", "--start-date", "31.12.2010", "OUT"),
    _bad("generate", "bank", "--clients", "0", "OUT"),
    _bad("generate", "spreadsheet"),
    _bad("db", "frobnicate"),
    _bad("db", "start", "--port", "99999"),
    _bad("land", "extra"),
    _bad("schedule", "print", "--at", "25:61"),
    _bad("schedule", "print", "--at", "noon"),
    _bad("schedule", "install"),
    _bad("freshness", "--now"),
    _bad("bi", "pbids", "--out"),
    _bad("bi", "add-user", "Robert'); drop table x;--"),
    _bad("bi", "export"),
    _bad("no-such-command"),
    _bad(),
]


@pytest.fixture
def a_csv(tmp_path: Path) -> Path:
    path = tmp_path / "f.csv"
    path.write_text(uci([GOOD_ROW]), encoding="utf-8")
    return path


@pytest.mark.parametrize("args", BAD_ARGUMENTS, ids=lambda a: " ".join(a) or "(nothing)")
def test_bad_arguments_give_one_line_exit_2_and_no_traceback(args: list[str], a_csv: Path, tmp_path: Path) -> None:
    argv = [str(a_csv) if a == "FILE" else str(tmp_path / "out.csv") if a == "OUT" else a for a in args]
    # not run_cli: that one refuses `build` outside slow tests, and a bad argument never reaches dbt
    result = subprocess.run(
        [sys.executable, "-m", "segmart", *argv], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "error" in lines[0]
    assert not (tmp_path / "out.csv").exists()


def test_a_bad_delimiter_loads_nothing(a_csv: Path, clean_pg: psycopg2.extensions.connection) -> None:
    result = run_cli("sales", "--delimiter", ";;", str(a_csv), check=False)
    assert "';;' is not one character" in result.stderr
    assert scalar(clean_pg, "select to_regclass('staging.load_batches') is null") is True  # not even the schema


def test_run_py_help_errors_are_one_line_too() -> None:
    result = subprocess.run(
        [sys.executable, "run.py", "sales", "--delimiter", ";;", "x.csv"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert [line for line in result.stderr.splitlines() if "error" in line] == [
        line for line in result.stderr.splitlines() if line.strip() and not line.startswith("[segmart]")
    ]


# --- header errors: what is missing, what was seen, which flag fixes it -----


def _header_error(path: Path, formats=SALES_FORMATS, **options) -> str:
    with pytest.raises(FileProblem) as caught:
        detect_layout(path, formats, **options)
    assert caught.value.line == 1
    return caught.value.problem


def test_a_missing_column_is_named_with_the_delimiter_and_encoding_seen(tmp_path: Path) -> None:
    path = tmp_path / "no_country.csv"
    path.write_text(csv_text([UCI_HEADER[:-1], GOOD_ROW[:-1]]), encoding="utf-8")
    problem = _header_error(path)
    assert problem.startswith("unrecognised header")
    assert "read as utf-8, delimiter ','" in problem
    assert "UCI Online Retail CSV (uci): missing Country" in problem
    assert "unknown column" not in problem


def test_an_unknown_column_is_named(tmp_path: Path) -> None:
    path = tmp_path / "land.csv"
    path.write_text(csv_text([[*UCI_HEADER[:-1], "Land"], GOOD_ROW]), encoding="cp1251")
    problem = _header_error(path, encoding="cp1251")
    assert "read as cp1251, delimiter ','" in problem
    assert "missing Country; unknown column Land" in problem


def test_another_delimiter_is_suggested_and_then_loads(tmp_path: Path, clean_pg) -> None:
    path = tmp_path / "piped.csv"
    path.write_text("|".join(UCI_HEADER) + "\n" + "|".join(GOOD_ROW) + "\n", encoding="utf-8")
    problem = _header_error(path)
    assert "none of the delimiters ',', ';', 'tab' splits it" in problem
    assert "it loads with --delimiter '|'" in problem
    refused = run_cli("sales", str(path), check=False)
    assert refused.returncode == 1 and "--delimiter '|'" in refused.stderr
    run_cli("sales", "--delimiter", "|", str(path))
    assert scalar(clean_pg, "select count(*) from staging.sales_uci_lines") == 1


def test_a_wrong_forced_delimiter_suggests_the_right_one(tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    path.write_text(csv_text([UCI_HEADER, GOOD_ROW], delimiter=";"), encoding="utf-8")
    problem = _header_error(path, delimiter=",")
    assert "delimiter ','" in problem and "it loads with --delimiter ';'" in problem


def test_a_bank_file_given_to_sales_names_the_right_command_and_folder(tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_text("client_id,full_name,income\n1,A,10\n", encoding="utf-8")
    problem = _header_error(path)
    assert "bank clients CSV, a bank export" in problem
    assert "python3 run.py bank FILE" in problem and "data/inbox/bank/" in problem
    sales = tmp_path / "sales.csv"
    sales.write_text(uci([GOOD_ROW]), encoding="utf-8")
    assert "data/inbox/sales/" in _header_error(sales, BANK_FORMATS)


def test_a_wrong_format_flag_names_the_right_one(tmp_path: Path) -> None:
    from loaders.formats import ALL_FORMATS

    path = tmp_path / "uci.csv"
    path.write_text(uci([GOOD_ROW]), encoding="utf-8")
    problem = _header_error(path, forced_format=ALL_FORMATS["uci2"])
    assert "missing Invoice, Price; unknown columns InvoiceNo, UnitPrice" in problem
    assert "--format uci" in problem
