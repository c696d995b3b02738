"""Operating settings, read from the environment (or ``.env``) once per run."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from segmart.config import PROJECT_ROOT, SegmartError, load_environment

DATA_DIR = PROJECT_ROOT / "data"


def _path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def env_number(name: str, default: float, *, minimum: float = 0) -> float:
    text = os.environ.get(name)
    if text is None or not text.strip():
        return default
    try:
        value = float(text)
    except ValueError:
        raise SegmartError(f"{name} must be a number, got {text!r}.") from None
    if value < minimum:
        raise SegmartError(f"{name} must be >= {minimum:g}, got {text!r}.")
    return value


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    """A whole number from the environment (``default`` when unset or empty)."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise SegmartError(f"{name} must be a whole number, got {text!r}.") from None
    if value < minimum:
        raise SegmartError(f"{name} must be >= {minimum}, got {value}.")
    return value


def split_urls(text: str) -> list[str]:
    """Notification URLs separated by whitespace or commas."""
    return [part for part in re.split(r"[\s,]+", text.strip()) if part]


@dataclass(frozen=True)
class Settings:
    inbox_dir: Path
    archive_dir: Path
    rejected_dir: Path
    log_dir: Path
    log_keep_days: float
    run_wait: float  # seconds a second build waits for the first
    lock_timeout: float  # seconds one statement waits for a lock on a relation
    lock_retries: int  # extra attempts of the nodes that timed out
    lock_retry_wait: float  # seconds between attempts
    alert_urls: tuple[str, ...]
    alert_on: str  # "failure" | "always"
    freshness_warn_hours: float

    @property
    def give_up_bound(self) -> float:
        """Upper bound of the time spent waiting behind locks, dbt's own work excluded."""
        return (self.lock_retries + 1) * self.lock_timeout + self.lock_retries * self.lock_retry_wait


def load() -> Settings:
    load_environment()
    alert_on = os.environ.get("SEGMART_ALERT_ON", "failure").strip().lower() or "failure"
    if alert_on not in {"failure", "always"}:
        raise SegmartError(f"SEGMART_ALERT_ON must be 'failure' or 'always', got {alert_on!r}.")
    return Settings(
        inbox_dir=_path("SEGMART_INBOX_DIR", DATA_DIR / "inbox"),
        archive_dir=_path("SEGMART_ARCHIVE_DIR", DATA_DIR / "archive"),
        rejected_dir=_path("SEGMART_REJECTED_DIR", DATA_DIR / "rejected"),
        log_dir=_path("SEGMART_LOG_DIR", PROJECT_ROOT / "logs"),
        log_keep_days=env_number("SEGMART_LOG_KEEP_DAYS", 30),
        run_wait=env_number("SEGMART_RUN_WAIT", 300),
        lock_timeout=env_number("SEGMART_LOCK_TIMEOUT", 5, minimum=0.1),
        lock_retries=int(env_number("SEGMART_LOCK_RETRIES", 5)),
        lock_retry_wait=env_number("SEGMART_LOCK_RETRY_WAIT", 30),
        alert_urls=tuple(split_urls(os.environ.get("SEGMART_ALERT_URLS", ""))),
        alert_on=alert_on,
        freshness_warn_hours=env_number("SEGMART_FRESHNESS_WARN_HOURS", 72, minimum=1),
    )
