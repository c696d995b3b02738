"""Facts the tests read from the project instead of copying them: dbt vars and seeds."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from pytests.support import ROOT

SEEDS = ROOT / "seeds"


@cache
def project_vars() -> dict[str, Any]:
    """The ``vars:`` of ``dbt_project.yml`` as YAML reads them (a number with a dot is a float)."""
    project = yaml.safe_load((ROOT / "dbt_project.yml").read_text(encoding="utf-8"))
    return dict(project["vars"])


def project_var(name: str) -> Any:
    variables = project_vars()
    if name not in variables:
        raise KeyError(f"dbt_project.yml has no var {name!r}")
    return variables[name]


def seed_rows(name: str) -> list[dict[str, str]]:
    """The rows of ``seeds/<name>.csv``."""
    path: Path = SEEDS / f"{name}.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def non_product_codes() -> set[str]:
    """Stock codes that are not products (postage, manual lines…), as the models compare them."""
    return {row["product_id"].strip().upper() for row in seed_rows("sales_non_product_codes")}


def rfm_segment_map() -> dict[str, str]:
    """RFM score ("545") → segment name."""
    return {row["rfm_score"]: row["rfm_segment"] for row in seed_rows("rfm_segment_map")}
