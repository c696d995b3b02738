"""Where, in which language and how the report is written: options, else SEGMART_REPORT_* variables."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from segmart.config import PROJECT_ROOT, SegmartError
from segmart.report.csvout import DELIMITERS
from segmart.report.i18n import LANGS

DEFAULT_KEEP = 7
DEFAULT_STALE_DAYS = 7


@dataclass(frozen=True)
class ReportSettings:
    out_dir: Path
    lang: str
    keep: int
    csv_delimiter: str
    stale_days: int


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SegmartError(f"{name}={raw!r} is not a whole number") from None
    if value < 1:
        raise SegmartError(f"{name}={raw!r} must be at least 1")
    return value


def report_settings(
    *, out: str | None = None, lang: str | None = None, keep: int | None = None, csv_delimiter: str | None = None
) -> ReportSettings:
    """Explicit values win over SEGMART_REPORT_DIR / _LANG / _KEEP / _CSV_DELIMITER / _STALE_DAYS."""
    out_dir = Path(out or os.environ.get("SEGMART_REPORT_DIR") or "reports").expanduser()
    if not out_dir.is_absolute():
        out_dir = PROJECT_ROOT / out_dir
    lang = lang or os.environ.get("SEGMART_REPORT_LANG", "").strip() or "en"
    if lang not in LANGS:
        raise SegmartError(f"report language {lang!r} is not one of {', '.join(LANGS)} (SEGMART_REPORT_LANG)")
    delimiter = csv_delimiter or os.environ.get("SEGMART_REPORT_CSV_DELIMITER") or ";"
    if delimiter not in DELIMITERS:
        raise SegmartError(
            f"CSV delimiter {delimiter!r} is not one of {' '.join(DELIMITERS)} (SEGMART_REPORT_CSV_DELIMITER)"
        )
    return ReportSettings(
        out_dir=out_dir,
        lang=lang,
        keep=keep or _int_env("SEGMART_REPORT_KEEP", DEFAULT_KEEP),
        csv_delimiter=delimiter,
        stale_days=_int_env("SEGMART_REPORT_STALE_DAYS", DEFAULT_STALE_DAYS),
    )
