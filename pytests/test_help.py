"""One help: run.py and segmart list the same commands, every sub-command describes itself, -v anywhere."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

from pytests.support import ROOT
from segmart.cli import build_parser


def _run(*argv: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*argv], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def _listed(text: str) -> list[tuple[str, str]]:
    """(command, its line) of the `commands:` block of a help text."""
    block = text.split("commands:\n", 1)[1].split("\n\n", 1)[0]
    return [tuple(re.split(r"\s{2,}", line.strip(), maxsplit=1)) for line in block.splitlines()]


def _sub_parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield (*path, name), child
                yield from _sub_parsers(child, (*path, name))


def test_run_py_help_lists_every_command_of_segmart_help_with_one_line_each() -> None:
    run_py = _run(sys.executable, "run.py", "--help")
    assert run_py.returncode == 0
    console = Path(sys.executable).with_name("segmart")
    segmart = _run(str(console), "--help")
    assert segmart.returncode == 0
    listed = _listed(run_py.stdout)
    assert listed == _listed(segmart.stdout)
    names = [name for name, _ in listed]
    assert {"build", "test", "setup", "report", "sales", "bank", "db", "bi", "schedule"} <= set(names)
    # every command segmart's parser knows is listed, and nothing else
    [top] = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    assert sorted(names) == sorted(top.choices)
    assert all(len(line) > 20 for _, line in listed)
    assert run_py.stdout.startswith("usage: python3 run.py") and segmart.stdout.startswith("usage: segmart")


def test_every_sub_command_has_a_description() -> None:
    for path, parser in _sub_parsers(build_parser()):
        assert parser.description and len(parser.description) > 20, " ".join(path)
        help_text = parser.format_help()
        assert "{;,,}" not in help_text and "-v, --verbose" in help_text, " ".join(path)


def test_verbose_works_before_and_after_the_command() -> None:
    parser = build_parser()
    assert parser.parse_args(["schedule", "print"]).verbose is False
    assert parser.parse_args(["-v", "schedule", "print"]).verbose is True
    assert parser.parse_args(["schedule", "print", "-v"]).verbose is True
    assert parser.parse_args(["generate", "bank", "-v", "out"]).verbose is True
    after = _run(sys.executable, "-m", "segmart", "db", "status", "-v", timeout=60)
    assert after.returncode in (0, 3), after.stderr
    assert " DEBUG " in after.stderr  # the verbose log format


def test_dead_flags_are_gone_and_choices_read_as_words() -> None:
    result = _run(sys.executable, "-m", "segmart", "build", "--keep-going", timeout=60)
    assert result.returncode == 2 and "unrecognized arguments: --keep-going" in result.stderr
    help_text = _run(sys.executable, "-m", "segmart", "report", "--help", timeout=60).stdout
    assert "--csv-delimiter CHAR" in help_text and "';' or ','" in help_text


def test_messages_say_python3_run_py() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("segmart", "loaders", "bench")
        for path in (ROOT / folder).rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if re.search(r"\bpython run\.py", line) and 'os.name == "nt"' not in line  # Windows' own spelling
    ]
    assert offenders == []
    assert "python run.py" not in (ROOT / "README.md").read_text(encoding="utf-8")


def _anchors(markdown: str) -> set[str]:
    """GitHub's anchors of a markdown file's headings."""
    out = set()
    for line in markdown.splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            out.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return out


def test_the_readme_is_a_front_door_and_its_links_resolve() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 200
    for needed in ("python3 run.py build", "python3 run.py test", "data/inbox/sales/", "reports/", "SEGMART_REAL_DATA"):
        assert needed in readme, needed
    for name in ("operations", "data-formats", "marts", "bi", "reports", "performance", "architecture"):
        assert f"(docs/{name}.md" in readme, name
    documents = {"README.md": readme} | {
        f"docs/{p.name}": p.read_text(encoding="utf-8") for p in (ROOT / "docs").glob("*.md")
    }
    for where, text in documents.items():
        base = (ROOT / where).parent
        for target, anchor in re.findall(r"\]\(([^)#\s]*\.md|)(?:#([\w-]+))?\)", text):
            path = (base / target).resolve() if target else ROOT / where
            assert path.is_file(), f"{where}: link to {target}"
            if anchor:
                assert anchor in _anchors(path.read_text(encoding="utf-8")), f"{where}: #{anchor} in {target}"
    # one home per fact: each setting is described in one table row
    rows = [line for text in documents.values() for line in text.splitlines() if line.startswith("| `SEGMART_")]
    names = [re.match(r"\| `([A-Z_]+)`", line).group(1) for line in rows]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
