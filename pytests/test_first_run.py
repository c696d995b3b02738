"""A new user's first two builds: the demo, then the real file's first lines (sales only).

The demo's build has no dbt warning that is not announced as the demo's own,
no contract warning, and freshness says the same in dbt's output, the summary
and the ``freshness`` command's exit code, also when one kind (bank) has never
landed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytests.support.db import reset_database
from pytests.support.files import real_head
from pytests.support.ops import Folders, segmart

pytestmark = pytest.mark.slow


def _summary(stderr: str) -> list[str]:
    """The build's summary (its first line carries the log prefix with -v)."""
    lines = stderr.splitlines()
    start = max(i for i, line in enumerate(lines) if re.match(r"(.* INFO )?status: ", line))
    return [re.sub(r"^.* INFO (?=status: )", "", line) for line in lines[start:]]


def test_the_demo_then_own_sales_build_clean_and_freshness_agrees(pg, tmp_path: Path) -> None:
    reset_database(pg)
    user = Folders(tmp_path / "user")
    demo = segmart(user, "-v", "build")  # -v: dbt's own lines on screen, to check what it says
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert "unspecified precision/scale" not in demo.stderr
    summary = _summary(demo.stderr)
    warned = [line for line in summary if line.startswith("dbt warning: ")]
    dbt_warned = int(next(line for line in summary if line.startswith("dbt: ")).split(" warned")[0].split()[-1])
    assert len(warned) == dbt_warned, "every warning dbt counted is named in the summary"
    for line in warned:
        assert "(expected on the demo: it plants usage rows" in line, line
    assert any("bank_product_usage_client_id" in line and "Got 40 results" in line for line in warned)

    user.drop("sales", real_head(2_000, tmp_path / "online_retail_head.csv"))
    own = segmart(user, "-v", "build")
    assert own.returncode == 0, own.stderr[-3000:]
    assert "WARN freshness" not in own.stderr  # bank never landed: not checked, so not called late
    assert "stale sources: none" in _summary(own.stderr)
    assert not [line for line in _summary(own.stderr) if line.startswith("dbt warning: ")]
    fresh = segmart(user, "freshness")
    assert fresh.returncode == 0, fresh.stderr
    assert "stale sources: none" in fresh.stderr
    # and when the one landed kind is late, all three say so
    with pg.cursor() as cur:
        cur.execute("update staging.load_batches set loaded_at = loaded_at - interval '10 days'")
    pg.commit()
    late = segmart(user, "-v", "freshness")
    assert late.returncode == 1
    assert "WARN freshness of landing.sales_loads" in late.stderr
    assert "stale sources: sales: no new load for" in late.stderr
    assert "bank_loads" not in late.stderr.split("stale sources:", 1)[1]
