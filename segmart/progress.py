"""Progress on a terminal: bars for the files of a load and the nodes of a dbt run.

On a terminal (and without ``-v``) the console shows segmart's own lines, a
bar for the files being loaded (with the rows so far) and one for dbt (nodes
done / total, the current model); dbt's line-per-node output goes only to the
run's log file (``logs/build-*.log``), except its error lines. With ``-v`` or
without a terminal (cron, systemd, a pipe) nothing changes: plain lines, dbt's
included, as before.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from tqdm import tqdm

DBT_LOGGER = "segmart.dbt"
# "01:23:46  12 of 503 START sql table model data_mart.customer_rfm ..... [RUN]"
_NODE_RE = re.compile(r"^\S*\s+(\d+) of (\d+) (START|OK|PASS|WARN|ERROR|FAIL|SKIP|NO-OP)\b(.*)$")
_NAME_RE = re.compile(r"(?:model|seed|test|snapshot|freshness of|file|operation)\s+([\w.]+)")
# dbt's lines worth showing even on a terminal: what went wrong
_ERROR_RE = re.compile(r"(Failure in|Database Error|Compilation Error|Runtime Error|Encountered an error|ERROR)")

_active: ConsoleProgress | None = None


class ConsoleProgress(logging.Handler):
    """The console handler on a terminal: log lines above the bars, dbt's node lines turned into a bar."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream
        self.dbt_bar: tqdm | None = None
        self.dbt_total = 0
        self.files_bar: tqdm | None = None
        self.rows = 0

    # -- logging ---------------------------------------------------------

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
            if record.name == DBT_LOGGER:
                self._dbt_line(record.getMessage())
                return
            tqdm.write(message, file=self.stream)
        except Exception:  # a console problem must never stop the build
            self.handleError(record)

    def _dbt_line(self, line: str) -> None:
        match = _NODE_RE.match(line)
        if match is None:
            if _ERROR_RE.search(line) and "ERROR=0" not in line:
                tqdm.write(line, file=self.stream)
            return
        _, total, status, rest = match.groups()
        if " hook: " in rest:
            return
        if self.dbt_bar is None or int(total) != self.dbt_total:
            self._close_dbt()
            self.dbt_total = int(total)
            self.dbt_bar = tqdm(
                total=self.dbt_total, desc="dbt", unit="node", file=self.stream, dynamic_ncols=True, leave=False
            )
        name = _NAME_RE.search(rest)
        if status == "START":
            if name:
                self.dbt_bar.set_postfix_str(name.group(1)[-48:], refresh=True)
            return
        self.dbt_bar.update(1)
        if status in {"ERROR", "FAIL"}:
            tqdm.write(line.strip(), file=self.stream)
        if self.dbt_bar.n >= self.dbt_total:
            self._close_dbt()

    def _close_dbt(self) -> None:
        if self.dbt_bar is not None:
            self.dbt_bar.close()
            self.dbt_bar = None

    # -- loads -----------------------------------------------------------

    def start_files(self, total: int) -> None:
        self.rows = 0
        self.files_bar = tqdm(total=total, desc="loading", unit="file", file=self.stream, leave=False)

    def file_started(self, name: str) -> None:
        if self.files_bar is not None:
            self.files_bar.set_postfix_str(f"{name[-40:]}, {self.rows:,} rows so far", refresh=True)

    def file_done(self, rows: int) -> None:
        self.rows += rows
        if self.files_bar is not None:
            self.files_bar.update(1)
            self.files_bar.set_postfix_str(f"{self.rows:,} rows", refresh=True)

    def end_files(self) -> None:
        if self.files_bar is not None:
            self.files_bar.close()
            self.files_bar = None

    def close(self) -> None:
        self._close_dbt()
        self.end_files()
        super().close()


def install(*, verbose: bool, stream: TextIO | None = None) -> logging.Handler | None:
    """Put the progress handler on the root logger when on a terminal and not verbose; else None."""
    global _active
    stream = stream or sys.stderr
    if verbose or not stream.isatty():
        return None
    handler = ConsoleProgress(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    _active = handler
    return handler


@contextmanager
def files(total: int) -> Iterator[ConsoleProgress | None]:
    """A bar over ``total`` files while they load (None when there is no terminal)."""
    if _active is None or total == 0:
        yield None
        return
    _active.start_files(total)
    try:
        yield _active
    finally:
        _active.end_files()
