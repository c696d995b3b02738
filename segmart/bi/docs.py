"""The dbt documentation as one self-contained HTML file, next to the HTML report.

``dbt docs generate --static`` inlines the manifest and catalog into
``static_index.html``; it is generated in a scratch target directory (the
analyst's own ``target/`` is left alone) and moved into the report folder
atomically, so a reader never opens half a file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from segmart.config import PROJECT_ROOT, SegmartError

REPORT_DIR_VAR = "SEGMART_REPORT_DIR"
DOCS_FILE = "segmart_dbt_docs.html"


def report_dir() -> Path:
    folder = Path(os.environ.get(REPORT_DIR_VAR) or "reports").expanduser()
    return folder if folder.is_absolute() else PROJECT_ROOT / folder


def generate(out_dir: Path | None = None) -> Path:
    from segmart import db
    from segmart.pipeline import run_dbt

    db.resolve()
    out_dir = out_dir or report_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="segmart-docs-") as scratch:
        if run_dbt(["docs", "generate", "--static", "--target-path", scratch]) != 0:
            raise SegmartError("dbt docs generate failed (see its output above); no documentation file was written.")
        page = Path(scratch) / "static_index.html"
        if not page.is_file():
            raise SegmartError(f"dbt docs generate --static did not write {page.name}; is dbt-core 1.7 or newer?")
        target = out_dir / DOCS_FILE
        staged = out_dir / f".{DOCS_FILE}.tmp"
        shutil.copyfile(page, staged)
        staged.replace(target)
    return target
