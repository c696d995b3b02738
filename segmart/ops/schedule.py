"""Scheduler entries for this checkout: a cron line, a systemd service + timer, a Windows task."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path, PureWindowsPath

from segmart.config import PROJECT_ROOT, SegmartError

# where the checkout is on a Windows machine when this one is not (replace it, or pass --windows-dir)
WINDOWS_PLACEHOLDER = PureWindowsPath(r"C:\segmart")


def _python() -> Path:
    venv = PROJECT_ROOT / ".venv"
    candidate = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    return candidate if candidate.exists() else Path(sys.executable)


def service_user(user: str | None = None) -> str:
    """The account the systemd unit runs as: ``--user``, else whoever runs ``schedule print``.

    Read from the password database, not ``$USER`` (unset under sudo -i, cron, containers).
    """
    if user:
        return user
    try:
        return getpass.getuser()
    except (KeyError, OSError) as exc:
        raise SegmartError(
            f"cannot tell which user runs this ({exc}); name the service's user with --user NAME"
        ) from None


def entries(
    *,
    at: str = "02:30",
    root: Path = PROJECT_ROOT,
    user: str | None = None,
    windows_dir: PureWindowsPath | None = None,
) -> str:
    hour, minute = (int(part) for part in at.split(":", 1))
    python = _python()
    run = root / "run.py"
    log_dir = root / "logs"
    on_windows = os.name == "nt"
    windows_root = windows_dir or (PureWindowsPath(root) if on_windows else WINDOWS_PLACEHOLDER)
    windows_python = windows_root / ".venv" / "Scripts" / "python.exe"
    windows_command = (
        f'cmd /c cd /d \\"{windows_root}\\" && \\"{windows_python}\\" run.py build >> logs\\scheduler.log 2>&1'
    )
    windows_note = (
        ""
        if windows_dir or on_windows
        else f"# {WINDOWS_PLACEHOLDER} stands for the checkout on the Windows machine: run `schedule print` there,\n"
        "# or pass --windows-dir to print its path here.\n"
    )
    unit_user = service_user(user)
    windows_task = (
        f'schtasks /Create /TN "segmart nightly build" /SC DAILY /ST {hour:02d}:{minute:02d} /F /TR "{windows_command}"'
    )
    return f"""\
# segmart nightly build for {root}
# Exit codes: 0 ok, 1 partial (a file refused or some marts stale), 2 error,
# 3 gave up behind a lock held by a BI session, 75 another build was running.

## Linux: cron (crontab -e)
{minute} {hour} * * * cd {root} && {python} {run} build >> {log_dir}/cron.log 2>&1

## Linux: systemd (as root: write both files, then `systemctl daemon-reload && systemctl enable --now segmart.timer`)
# /etc/systemd/system/segmart.service
[Unit]
Description=segmart nightly build
After=network-online.target postgresql.service
Wants=network-online.target

[Service]
Type=oneshot
User={unit_user}
WorkingDirectory={root}
ExecStart={python} {run} build
SuccessExitStatus=1
TimeoutStartSec=4h

# /etc/systemd/system/segmart.timer
[Unit]
Description=Run the segmart build every night

[Timer]
OnCalendar=*-*-* {hour:02d}:{minute:02d}:00
Persistent=true
RandomizedDelaySec=60

[Install]
WantedBy=timers.target

## Windows: Task Scheduler (cmd.exe, once)
{windows_note}{windows_task}
"""
