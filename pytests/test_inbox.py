"""The inbox as a new user fills it: the folders exist, a file at the top lands by its kind, and
every file ends landed, skipped as landed, or rejected with a reason (none stays unmentioned).

Runs ``land`` (no dbt) on the real file's first 2,000 lines.
"""

from __future__ import annotations

import gzip
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from loaders.formats import SALES_FORMATS
from loaders.reader import FileProblem, detect_layout
from pytests.support.db import reset_database, rows
from pytests.support.files import real_head
from pytests.support.ops import Folders, segmart
from segmart.ops import inbox

HEAD_ROWS = 2_000


@pytest.fixture
def head(tmp_path: Path) -> Path:
    """The real export's first lines, gzip-compressed as a user would copy it."""
    plain = real_head(HEAD_ROWS, tmp_path / "online_retail_head.csv")
    packed = tmp_path / "online_retail.csv.gz"
    with plain.open("rb") as source, gzip.open(packed, "wb") as target:
        shutil.copyfileobj(source, target)
    return packed


def _workbook(path: Path, source: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    with gzip.open(source, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            sheet.append(line.rstrip("\n").split(","))
            if number > 20:
                break
    book.save(path)
    return path


def _remaining(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_first_land_creates_the_folders_and_every_file_ends_landed_or_rejected_with_a_reason(
    pg, tmp_path: Path, head: Path
) -> None:
    reset_database(pg)
    user = Folders(tmp_path / "user")
    user.inbox.mkdir(parents=True)
    shutil.copy(head, user.inbox / head.name)  # the Quick start's mistake: the inbox's top, not sales/
    (user.inbox / "clients.csv").write_text("client_id,full_name,income\n1,Anna,100.5\n2,Boris,\n", encoding="utf-8")
    (user.inbox / "notes.csv").write_text("Date,Amount,Comment\n2011-01-01,5,x\n", encoding="utf-8")
    _workbook(user.inbox / "online_retail.xlsx", head)
    (user.inbox / "online_retail.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500))
    with zipfile.ZipFile(user.inbox / "export.zip", "w") as archive:
        archive.write(head, head.name)
    (user.inbox / "manual.pdf").write_bytes(b"%PDF-1.4\n")
    (user.inbox / "sales").mkdir()
    _workbook(user.inbox / "sales" / "march.xlsx", head)

    result = segmart(user, "land")
    assert "Traceback" not in result.stderr
    assert result.returncode == 1, result.stderr[-3000:]  # files were refused: partial

    # the folders a new user looks for, each saying what goes there
    for kind in ("sales", "bank", "events"):
        readme = (user.inbox / kind / "README.txt").read_text(encoding="utf-8")
        assert kind.upper() in readme and "CSV" in readme
    assert "sales/" in (user.inbox / "README.txt").read_text(encoding="utf-8")
    assert "events/" in (user.inbox / "README.txt").read_text(encoding="utf-8")

    # nothing stays behind: only segmart's README files remain in the inbox
    assert _remaining(user.inbox) == ["README.txt", "bank/README.txt", "events/README.txt", "sales/README.txt"]
    day = next(user.archive.iterdir()).name
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", day)
    assert _remaining(user.archive) == [
        f"{day}/bank/clients.csv",
        f"{day}/sales/march.xlsx",
        f"{day}/sales/{head.name}",
        f"{day}/sales/online_retail.xlsx",
    ]
    assert rows(
        pg, "select file_name, target, rows_loaded + rows_quarantined from staging.load_batches order by 1"
    ) == [
        ("clients.csv", "bank_clients", 2),
        ("march.xlsx", "sales_uci_lines", 21),
        (head.name, "sales_uci_lines", HEAD_ROWS),
    ]
    # the workbook at the top holds the same cells as sales/march.xlsx: recognised, not landed twice
    assert re.search(r"online_retail\.xlsx: skipped, identical content already landed", result.stderr)

    reasons = {
        p.name.removesuffix(".reason.txt"): p.read_text(encoding="utf-8") for p in user.rejected.rglob("*.reason.txt")
    }
    assert sorted(reasons) == ["export.zip", "manual.pdf", "notes.csv", "online_retail.xls"]
    assert "save it as .xlsx or .csv" in reasons["online_retail.xls"]
    assert "unpack it" in reasons["export.zip"]
    assert "not an export segmart reads" in reasons["manual.pdf"]
    assert "unrecognised header 'Date,Amount,Comment' (read as utf-8, delimiter ',')" in reasons["notes.csv"]
    assert "none of its columns belongs to a known export" in reasons["notes.csv"]
    for name, reason in reasons.items():
        assert "inbox/sales/" in reason and "inbox/bank/" in reason, name  # the right folder is named
    # the summary and the log say so too
    assert "4 refused" in result.stderr
    assert "online_retail.xlsx at the top of the inbox is a sales export" in result.stderr
    assert "online_retail.csv.gz at the top of the inbox is a sales export" in result.stderr


def test_the_same_file_again_at_the_top_is_skipped_as_landed(pg, tmp_path: Path, head: Path) -> None:
    reset_database(pg)
    user = Folders(tmp_path / "user")
    user.drop("sales", head)
    assert segmart(user, "land").returncode == 0
    user.inbox.mkdir(exist_ok=True)
    again = user.inbox / "copy_of_online_retail.csv.gz"
    shutil.copy(head, again)
    result = segmart(user, "land")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "skipped, identical content already landed as load #1" in result.stderr
    assert "1 already landed" in result.stderr
    assert not again.exists() and len(list(user.archive.rglob(again.name))) == 1


def test_a_workbook_given_to_the_loader_is_read_as_its_export(tmp_path: Path, head: Path) -> None:
    layout = detect_layout(_workbook(tmp_path / "book.xlsx", head), SALES_FORMATS)
    assert layout.fmt.name.startswith("uci")


def test_an_old_excel_workbook_is_refused_with_what_to_save_it_as(tmp_path: Path) -> None:
    old = tmp_path / "book.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500))
    assert "save it as .xlsx or .csv" in inbox.not_loadable_reason(old)
    with pytest.raises(FileProblem, match=r"\.xlsx .*or \.csv"):
        detect_layout(old, SALES_FORMATS)
