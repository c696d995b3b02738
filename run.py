#!/usr/bin/env python3
"""segmart's entry point: set up the environment, then run a project command.

``python3 run.py --help`` lists the commands (segmart/commands.py holds the
list, shared with ``segmart --help``); ``python3 run.py <command>`` sets up
.venv when needed and runs ``segmart <command>`` in it (``test`` runs pytest).
``python3 run.py setup --spark`` (or any command with ``--engine spark``) also installs
the Spark engine (requirements-spark.txt; needs Java).

Only the standard library is used here, so this works on a fresh machine with
Python 3.11+ (Linux, macOS or Windows). Set-up is idempotent: the virtualenv
is (re)installed only when requirements.txt changed since the last install.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
REQUIREMENTS = ROOT / "requirements.txt"
SPARK_REQUIREMENTS = ROOT / "requirements-spark.txt"
SPARK_STAMP = VENV / ".segmart-spark-requirements.sha256"
PYPROJECT = ROOT / "pyproject.toml"
STAMP = VENV / ".segmart-requirements.sha256"
MIN_PYTHON = (3, 11)


def venv_python() -> Path:
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def site_packages() -> Path:
    out = subprocess.run(
        [str(venv_python()), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(out.stdout.strip())


def say(message: str) -> None:
    sys.stderr.write(f"[segmart] {message}\n")
    sys.stderr.flush()


def fail(message: str) -> None:
    say(message)
    raise SystemExit(2)


def setup() -> None:
    if sys.version_info < MIN_PYTHON:
        fail(f"Python {'.'.join(map(str, MIN_PYTHON))}+ is needed; this is {sys.version.split()[0]}.")
    if not venv_python().exists():
        say(f"creating the virtualenv in {VENV}")
        try:
            venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
        except (subprocess.CalledProcessError, OSError) as exc:
            shutil.rmtree(VENV, ignore_errors=True)
            fail(
                f"Could not create a virtualenv in {VENV} ({exc}). On Debian/Ubuntu install the "
                "python3-venv package (`apt install python3-venv`) and run this again."
            )
    digest = hashlib.sha256(REQUIREMENTS.read_bytes() + PYPROJECT.read_bytes()).hexdigest()
    if not STAMP.is_file() or STAMP.read_text().strip() != digest:
        say("installing requirements.txt and this checkout into .venv (first run: a few minutes)")
        STAMP.unlink(missing_ok=True)
        pip = [str(venv_python()), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        if subprocess.run([*pip, "-r", str(REQUIREMENTS)]).returncode != 0:
            fail("pip could not install requirements.txt (see its message above); nothing else was changed.")
        # editable: the `segmart` command runs this checkout's code, edits apply at once
        if subprocess.run([*pip, "--no-deps", "-e", str(ROOT)]).returncode != 0:
            fail("pip could not install this checkout in editable mode (see its message above).")
        STAMP.write_text(digest + "\n")
    # Load .env and the embedded server's settings at interpreter start-up, so a
    # hand-typed `dbt build` reaches the same database as `segmart build`; the
    # first line also puts the checkout on sys.path for `pytests` and `bench`.
    hook = site_packages() / "segmart.pth"
    hook_text = f"{ROOT}\nimport segmart._envhook\n"
    if not hook.is_file() or hook.read_text() != hook_text:
        hook.write_text(hook_text)
    profiles = ROOT / "profiles.yml"
    if not profiles.exists():
        shutil.copyfile(ROOT / "profiles.yml.example", profiles)
        say("wrote profiles.yml from profiles.yml.example (it reads the connection from the environment)")


def wants_spark(argv: list[str]) -> bool:
    """True when the command asks for the Spark engine (``--engine spark`` or SEGMART_ENGINE=spark)."""
    if "--spark" in argv:
        return True
    for index, arg in enumerate(argv):
        if arg == "--engine=spark" or (arg == "--engine" and argv[index + 1 : index + 2] == ["spark"]):
            return True
    return os.environ.get("SEGMART_ENGINE", "").strip().lower() == "spark"


def setup_spark() -> None:
    """Java must be there (we cannot install it); pyspark and dbt-spark go into .venv once."""
    java = shutil.which("java")
    if java is None:
        fail(
            "The Spark engine needs Java 17 (a JRE is enough) and there is no `java` on PATH. "
            "Install it with `apt-get install openjdk-17-jre-headless` (Debian/Ubuntu), "
            "`brew install openjdk@17` (macOS) or the platform's way, then run this again."
        )
    digest = hashlib.sha256(SPARK_REQUIREMENTS.read_bytes()).hexdigest()
    if not SPARK_STAMP.is_file() or SPARK_STAMP.read_text().strip() != digest:
        say("installing requirements-spark.txt (pyspark, dbt-spark) into .venv (first time: a few minutes)")
        SPARK_STAMP.unlink(missing_ok=True)
        pip = [str(venv_python()), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        if subprocess.run([*pip, "-r", str(SPARK_REQUIREMENTS)]).returncode != 0:
            fail("pip could not install requirements-spark.txt (see its message above).")
        SPARK_STAMP.write_text(digest + "\n")


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "help"
    if command in {"help", "-h", "--help"}:
        sys.path.insert(0, str(ROOT))
        from segmart.commands import overview  # standard library only: works before setup

        sys.stdout.write(overview())
        return 0
    setup()
    if wants_spark(argv):
        setup_spark()
    argv = [arg for arg in argv if arg != "--spark"]
    if command == "setup":
        say(f"environment ready: activate it with `source {VENV.relative_to(ROOT)}/bin/activate`")
        return 0
    if command == "test":
        sys.path.insert(0, str(ROOT))
        from segmart.commands import pytest_args

        args = [str(venv_python()), "-m", "pytest", *pytest_args(argv[1:])]
    else:
        args = [str(venv_python()), "-m", "segmart", *argv]
    return subprocess.run(args, cwd=ROOT).returncode


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
