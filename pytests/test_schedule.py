"""Schedules that install as printed: the systemd unit's user and the Windows task's paths."""

from __future__ import annotations

import os
import pwd
import re
import subprocess
import sys

from pytests.support import ROOT


def schedule(*args: str, drop_env: tuple[str, ...] = ()) -> str:
    env = {k: v for k, v in os.environ.items() if k not in drop_env}
    result = subprocess.run(
        [sys.executable, "-m", "segmart", "schedule", "print", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _windows_section(text: str) -> str:
    return text.split("## Windows", 1)[1]


def test_the_systemd_unit_runs_as_the_user_who_printed_it_even_without_USER() -> None:
    me = pwd.getpwuid(os.getuid()).pw_name
    text = schedule(drop_env=("USER", "LOGNAME", "LNAME", "USERNAME"))
    assert re.findall(r"^User=(.*)$", text, re.MULTILINE) == [me]
    assert "User=segmart\n" not in text or me == "segmart"


def test_the_user_flag_names_another_account() -> None:
    text = schedule("--user", "svc_segmart")
    assert re.findall(r"^User=(.*)$", text, re.MULTILINE) == ["svc_segmart"]


def test_the_windows_task_uses_a_windows_path() -> None:
    section = _windows_section(schedule("--at", "03:15"))
    task = next(line for line in section.splitlines() if line.startswith("schtasks "))
    assert not re.search(r"/\w+/", task), "no POSIX path in the task"
    assert str(ROOT) not in section and str(ROOT).replace("/", "\\") not in section
    assert r"\"C:\segmart\.venv\Scripts\python.exe\" run.py build" in task
    assert "run `schedule print` there" in section  # says what the placeholder stands for
    given = _windows_section(schedule("--windows-dir", r"D:\apps\segmart"))
    assert r"cd /d \"D:\apps\segmart\" && \"D:\apps\segmart\.venv\Scripts\python.exe\" run.py build" in given
    assert "stands for" not in given
