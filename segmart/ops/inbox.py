"""The inbox lifecycle: pending files in ``inbox/<kind>/``; after their load has
committed, landed (or already-landed) files move to ``archive/<load date>/<kind>/``
and refused ones to ``rejected/<kind>/`` with a ``.reason.txt`` beside them.

``scan`` decides the fate of every file in the inbox before anything loads: a
CSV in a kind's folder is pending; a CSV at the inbox root is pending for the
kind its header shows, or rejected with a reason naming the right folder; any
other file (a workbook, an archive, a PDF) is rejected with what to do instead.
Nothing stays behind unmentioned. The first scan creates the folders, each
with a short README.txt.

A file is moved only after ``load_file`` returned, i.e. after its transaction
committed. Killed in between, the file stays in the inbox; the next run finds
its content hash in ``staging.load_batches``, skips it (no double count) and
archives it then.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from loaders.errors import LoaderError
from loaders.formats import FORMATS_BY_KIND, Format, kind_phrase
from loaders.load import LoadResult
from loaders.reader import detect_layout

log = logging.getLogger("segmart")

FORMATS: dict[str, tuple[Format, ...]] = FORMATS_BY_KIND
KINDS = tuple(FORMATS)
CSV_SUFFIXES = (".csv", ".csv.gz", ".txt", ".txt.gz", ".gz")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
README = "README.txt"

FOLDER_README = {
    "": """segmart inbox: put your exports into the folder of their kind.

  sales/  UCI Online Retail (I or II) CSV, 1C:ERP "Реализация" line export (CSV or XLSX)
  bank/   bank clients.csv and product_usage.csv
  events/ event logs of a web shop or app tracker (one row per view, cart, purchase, ...)

A CSV or XLSX dropped here, at the top, is landed by the kind its header shows, or moved
to the rejected folder with the reason. `python3 run.py build` (or `land`) reads
the inbox; landed files move to data/archive/<date>/<kind>/, refused ones to
data/rejected/ with a .reason.txt beside them. Files may be gzip-compressed (.gz).
""",
    "sales": """segmart inbox for SALES exports (CSV, optionally .gz, or XLSX with the header below a report title):

  - UCI Online Retail: InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice, CustomerID, Country
  - UCI Online Retail II: Invoice, StockCode, Description, Quantity, InvoiceDate, Price, Customer ID, Country
  - 1C:ERP "Реализация" lines (cp1251 or UTF-8, ';' delimiter)

Encoding and delimiter are detected. The same file twice is recognised and
skipped. A newer file with the same documents replaces them (newest load wins).
""",
    "bank": """segmart inbox for BANK exports (CSV, optionally .gz):

  - clients.csv: client_id, full_name, income
  - product_usage.csv: usage_id, client_id, product_name, usage_date
""",
    "events": """segmart inbox for EVENTS (event logs as CSV, optionally .gz): one row per event of a web shop or app.

  user_id, event_time, event_type (view, cart, checkout, purchase, or any other),
  and where the tracker has them: value (money, on purchases), category, city,
  gender, age, child_age

Usual other spellings are accepted (user, timestamp, event, revenue, sex, ...).
Exact duplicates (same user, event time and event type) count once in the marts.
""",
}


def prepare(inbox: Path) -> None:
    """The inbox and a folder per kind, each with its README.txt (created once, never overwritten)."""
    for kind, text in FOLDER_README.items():
        folder = inbox / kind if kind else inbox
        folder.mkdir(parents=True, exist_ok=True)
        readme = folder / README
        if not readme.exists():
            readme.write_text(text, encoding="utf-8")


def _loadable(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(CSV_SUFFIXES + XLSX_SUFFIXES)


def not_loadable_reason(path: Path) -> str:
    """Why a file of this kind of name is not read, and what to do instead."""
    name = path.name.lower()
    if name.endswith(".xls"):
        return "an Excel 97-2003 workbook (.xls) cannot be read: save it as .xlsx or .csv (UTF-8) and drop that in"
    if name.endswith((".zip", ".7z", ".rar", ".tar", ".tgz", ".tar.gz")):
        return "an archive: unpack it and drop the CSV files it holds (a single CSV may be gzip-compressed, .csv.gz)"
    return "not an export segmart reads: .csv and .txt files (optionally gzip-compressed, .gz) and .xlsx workbooks"


def _where_to(kind: str | None = None) -> str:
    if kind:
        return f"it belongs in inbox/{kind}/"
    return (
        "sales exports go into inbox/sales/, bank clients / product-usage CSVs into inbox/bank/, "
        "event logs into inbox/events/"
    )


def detect_kind(path: Path) -> tuple[str | None, str]:
    """The kind a file's header shows (sales, bank or events), else None and the header problem."""
    problems = []
    for kind in KINDS:
        try:
            detect_layout(path, FORMATS[kind])
        except LoaderError as exc:
            problems.append(str(exc))
            continue
        return kind, ""
    return None, problems[0]


@dataclass
class Scan:
    pending: dict[str, list[Path]] = field(default_factory=lambda: {kind: [] for kind in KINDS})
    rejected: list[LoadResult] = field(default_factory=list)  # moved to the rejected folder already


def scan(inbox: Path, rejected_dir: Path) -> Scan:
    """Every file of the inbox: pending for its kind, or rejected now with a reason."""
    prepare(inbox)
    found = Scan()

    def refuse(path: Path, kind: str, reason: str) -> None:
        log.warning("%s: %s", path.name, reason)
        reject(path, rejected_dir, kind, reason)
        found.rejected.append(LoadResult(path=path, status="failed", error=f"{path}: {reason}", unusable=True))

    for kind in KINDS:
        for path in sorted((inbox / kind).iterdir()):
            if _skipped(path):
                continue
            if _loadable(path):
                found.pending[kind].append(path)
            else:
                refuse(path, kind, not_loadable_reason(path))
    for path in sorted(inbox.iterdir()):
        if path.name in KINDS or _skipped(path):
            continue
        if not _loadable(path):
            refuse(path, "", f"{not_loadable_reason(path)}; {_where_to()}")
            continue
        kind, problem = detect_kind(path)
        if kind is None:
            refuse(path, "", f"{problem.removeprefix(f'{path}, ')}; found at the top of the inbox: {_where_to()}")
            continue
        log.info("%s at the top of the inbox is %s: landing it as one", path.name, kind_phrase(kind))
        found.pending[kind].append(path)
    return found


def _skipped(path: Path) -> bool:
    """segmart's own README, a folder, hidden files and office lock files (a copy in progress): left alone, said so."""
    if path.name == README:
        return True
    if path.is_dir():
        log.warning("%s: a folder in the inbox is not read (only %s)", path, ", ".join(f"{k}/" for k in KINDS))
        return True
    if path.name.startswith((".", "~$")):
        log.warning("%s: hidden or temporary file (a copy in progress?), left in the inbox", path)
        return True
    return False


def pending(inbox: Path, kind: str) -> list[Path]:
    folder = inbox / kind
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name != README and _loadable(p))


def _free_name(folder: Path, name: str) -> Path:
    """``name`` in ``folder``, or ``name`` with ``.1``, ``.2`` ... before its suffixes when taken."""
    candidate = folder / name
    if not candidate.exists():
        return candidate
    stem, dot, suffixes = name.partition(".")
    counter = 1
    while True:
        candidate = folder / f"{stem}.{counter}{dot}{suffixes}"
        if not candidate.exists() and not Path(str(candidate) + ".reason.txt").exists():
            return candidate
        counter += 1


def _move(path: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = _free_name(folder, path.name)
    shutil.move(str(path), str(target))  # works across file systems (a network share)
    return target


def archive(path: Path, archive_dir: Path, kind: str, *, when: datetime | None = None) -> Path:
    day = (when or datetime.now(UTC)).astimezone().date().isoformat()
    target = _move(path, archive_dir / day / kind)
    log.info("archived %s -> %s", path.name, target)
    return target


def reject(path: Path, rejected_dir: Path, kind: str, reason: str) -> Path:
    target = _move(path, rejected_dir / kind)
    stamp = datetime.now(UTC).astimezone().isoformat(timespec="seconds")
    Path(str(target) + ".reason.txt").write_text(
        f"{target.name} was refused on {stamp}:\n{reason}\n\n"
        "Fix the file and drop it into the inbox again; nothing of it was loaded.\n",
        encoding="utf-8",
    )
    log.warning("rejected %s -> %s (reason beside it)", path.name, target)
    return target


def settle(result: LoadResult, kind: str, archive_dir: Path, rejected_dir: Path) -> None:
    """Move one inbox file according to its (committed) load result."""
    if not result.path.exists():
        return
    if result.status in {"loaded", "duplicate"}:
        archive(result.path, archive_dir, kind)
    elif result.unusable:
        reject(result.path, rejected_dir, kind, result.error or "unusable file")
    else:
        log.warning(
            "%s stays in the inbox: the database refused it (%s); the next run retries", result.path.name, result.error
        )
