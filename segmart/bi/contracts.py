"""The columns dashboards rely on, committed as a snapshot and compared on every test run.

``contracts/data_mart.json`` holds, for every mart or seed an exposure
(``models/exposures.yml``) depends on, its model version and its columns with
their declared types. A change is *breaking* when a snapshotted column is
removed, renamed (= removed) or changes type (an unconstrained ``numeric``
gaining a precision and scale is not a change of type for a reader), or a
snapshotted mart goes away,
while the model's version stays the same. New columns and new marts are
additive and pass; after any change, ``python3 run.py bi contracts --update``
rewrites the snapshot (and CHANGELOG.md says what changed).
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from segmart.config import PROJECT_ROOT, SegmartError

SNAPSHOT = PROJECT_ROOT / "contracts" / "data_mart.json"


def normalise_type(data_type: str | None) -> str:
    """``NUMERIC(7, 6)`` and ``numeric(7,6)`` are the same declared type."""
    return re.sub(r"\s+", "", (data_type or "").lower()).replace("charactervarying", "varchar")


def from_manifest(manifest: dict) -> dict[str, dict]:
    """The snapshot of what the exposures read: ``{mart: {version, exposures, columns: {name: type}}}``."""
    marts: dict[str, dict] = {}
    nodes = manifest["nodes"]
    for exposure in sorted(manifest.get("exposures", {}).values(), key=lambda e: e["name"]):
        for unique_id in exposure["depends_on"]["nodes"]:
            node = nodes.get(unique_id)
            if node is None or node["resource_type"] not in {"model", "seed"}:
                continue
            entry = marts.setdefault(node["name"], {"version": None, "exposures": [], "columns": {}})
            entry["exposures"].append(exposure["name"])
            if node["resource_type"] == "seed":
                types = node["config"].get("column_types") or {}
                entry["columns"] = {name: normalise_type(t) for name, t in types.items()}
            else:
                entry["version"] = node.get("version")
                entry["columns"] = {
                    name: normalise_type(column.get("data_type")) for name, column in node["columns"].items()
                }
    return dict(sorted(marts.items()))


@dataclass(frozen=True)
class Break:
    mart: str
    column: str | None
    problem: str

    def __str__(self) -> str:
        where = self.mart if self.column is None else f"{self.mart}.{self.column}"
        return f"{where}: {self.problem}"


def compatible_type(old: str, new: str) -> bool:
    """Same declared type, or an unconstrained ``numeric`` that gained a precision and scale.

    The latter reads the same in every BI tool (a decimal number); narrowing a
    declared precision or scale, or any other change of type, is breaking.
    """
    return old == new or (old == "numeric" and re.fullmatch(r"numeric\(\d+,\d+\)", new) is not None)


def _newer(new: object, old: object) -> bool:
    try:
        return new is not None and (old is None or float(str(new)) > float(str(old)))
    except ValueError:
        return str(new) != str(old)


def breaking_changes(old: dict[str, dict], new: dict[str, dict]) -> list[Break]:
    """What in ``new`` breaks a dashboard that relied on ``old`` (empty = compatible)."""
    breaks: list[Break] = []
    for mart, before in old.items():
        after = new.get(mart)
        if after is None:
            breaks.append(Break(mart, None, f"removed, but read by {', '.join(before['exposures'])}"))
            continue
        if _newer(after.get("version"), before.get("version")):
            continue  # a new model version may change anything; old readers pin the old one
        for column, data_type in before["columns"].items():
            if column not in after["columns"]:
                breaks.append(Break(mart, column, "removed or renamed (bump the model version)"))
            elif not compatible_type(data_type, after["columns"][column]):
                breaks.append(
                    Break(mart, column, f"type {data_type} -> {after['columns'][column]} (bump the model version)")
                )
    return breaks


def load(path: Path = SNAPSHOT) -> dict[str, dict]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))["marts"]
    except FileNotFoundError:
        raise SegmartError(
            f"No contract snapshot at {path}; create it with `python3 run.py bi contracts --update`."
        ) from None


def save(marts: dict[str, dict], path: Path = SNAPSHOT) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "about": "Columns of data_mart that exposures read; see segmart/bi/contracts.py and CHANGELOG.md.",
        "marts": marts,
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def current() -> dict[str, dict]:
    """The project's contracts now, from ``dbt parse`` (no database needed beyond the profile)."""
    from segmart.pipeline import run_dbt

    with tempfile.TemporaryDirectory(prefix="segmart-contracts-") as scratch:
        if run_dbt(["parse", "--target-path", scratch, "--quiet"]) != 0:
            raise SegmartError("dbt parse failed (see above); cannot read the contracts.")
        manifest = json.loads((Path(scratch) / "manifest.json").read_text(encoding="utf-8"))
    return from_manifest(manifest)
