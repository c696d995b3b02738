"""The pull's configuration, read from the environment (or ``.env``): SEGMART_ONEC_*."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from segmart.config import SegmartError, load_environment
from segmart.ops.settings import env_int, env_number

URL_VAR = "SEGMART_ONEC_URL"
USER_VAR = "SEGMART_ONEC_USER"
PASSWORD_VAR = "SEGMART_ONEC_PASSWORD"  # a secret: keep it in .env, never in a scheduler entry


@dataclass(frozen=True)
class OnecSettings:
    base_url: str  # the published base, e.g. http://erp.local/erp (…/odata/standard.odata is added)
    user: str
    password: str
    lookback_days: int  # documents of the last N days before the watermark are read again
    page_size: int  # documents per request ($top)
    timeout: float  # seconds per request
    retries: int  # extra attempts after a 5xx or a timeout
    backoff: float  # seconds before the first retry; doubled for each next one

    @property
    def odata_root(self) -> str:
        base = self.base_url.rstrip("/")
        return base if base.endswith("/odata/standard.odata") else f"{base}/odata/standard.odata"


def configured() -> bool:
    """True when a 1C base is configured (the build then pulls from it first)."""
    load_environment()
    return bool(os.environ.get(URL_VAR, "").strip())


def load() -> OnecSettings:
    load_environment()
    url = os.environ.get(URL_VAR, "").strip()
    if not url:
        raise SegmartError(f"{URL_VAR} is not set: the address of the published 1C base, e.g. http://erp.local/erp.")
    if not url.startswith(("http://", "https://")):
        raise SegmartError(f"{URL_VAR} must start with http:// or https://, got {url!r}.")
    if urlsplit(url).password is not None:
        raise SegmartError(
            f"{URL_VAR} must not hold a password: put the user in {USER_VAR} and the password in {PASSWORD_VAR}."
        )
    user = os.environ.get(USER_VAR, "").strip()
    if not user:
        raise SegmartError(f"{USER_VAR} is not set: the 1C user the pull reads as (read-only rights suffice).")
    return OnecSettings(
        base_url=url,
        user=user,
        password=os.environ.get(PASSWORD_VAR, ""),
        lookback_days=env_int("SEGMART_ONEC_LOOKBACK_DAYS", 7),
        page_size=env_int("SEGMART_ONEC_PAGE_SIZE", 500, minimum=1),
        timeout=env_number("SEGMART_ONEC_TIMEOUT", 60, minimum=0.1),
        retries=env_int("SEGMART_ONEC_RETRIES", 3),
        backoff=env_number("SEGMART_ONEC_BACKOFF", 2),
    )
