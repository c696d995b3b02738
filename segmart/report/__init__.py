"""The manager report (self-contained HTML) and the segment lists (XLSX, CSV).

    write_reports(conn, out_dir, lang, keep=..., csv_delimiter=...)  -> the files written
    run_report(conn, settings)                                        -> the same, from ReportSettings
    report_settings(out=, lang=, keep=, csv_delimiter=)               -> options over SEGMART_REPORT_*

The `report` command and the `build --no-report` option are parsed in segmart/cli.py.
"""

from segmart.report.settings import ReportSettings, report_settings
from segmart.report.writer import run_report, write_reports

__all__ = ["ReportSettings", "report_settings", "run_report", "write_reports"]
