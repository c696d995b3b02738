"""Scheduler entries for this checkout: a cron line, a systemd service + timer, a Windows task."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from segmart.config import PROJECT_ROOT


def _python() -> Path:
    venv = PROJECT_ROOT / ".venv"
    candidate = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    return candidate if candidate.exists() else Path(sys.executable)


def entries(*, at: str = "02:30", root: Path = PROJECT_ROOT) -> str:
    hour, minute = (int(part) for part in at.split(":", 1))
    python = _python()
    run = root / "run.py"
    log_dir = root / "logs"
    windows_root = str(root).replace("/", "\\")
    windows_python = f"{windows_root}\\.venv\\Scripts\\python.exe"
    windows_command = (
        f'cmd /c cd /d \\"{windows_root}\\" && \\"{windows_python}\\" run.py build >> logs\\scheduler.log 2>&1'
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
User={os.environ.get("USER", "segmart")}
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
schtasks /Create /TN "segmart nightly build" /SC DAILY /ST {hour:02d}:{minute:02d} /F /TR "{windows_command}"
"""
