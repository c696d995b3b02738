"""The manager report (self-contained HTML) and the segment lists (XLSX, CSV).

write_reports(conn, out_dir, lang, keep=..., csv_delimiter=...)  -> the files written
register(subparsers)                                              -> the `report` command
"""

from segmart.report.cli import register, report_settings
from segmart.report.writer import write_reports

__all__ = ["register", "report_settings", "write_reports"]
