"""HTTP to 1C's standard OData interface: JSON pages, retries, errors an administrator can act on.

Only the standard library (urllib): a GET per page of ``$top`` entries, basic
authentication, Cyrillic entity names percent-encoded. A 5xx answer, a timeout
or a refused connection is retried with a doubling pause; 401/403, 404 and an
answer of an unexpected shape stop the pull with a message that says what to do
in 1C. Neither the password nor the Authorization header ever reaches a message.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

from segmart.config import SegmartError
from segmart.onec.settings import PASSWORD_VAR, USER_VAR, OnecSettings

log = logging.getLogger("segmart")

PUBLISH_HINT = (
    "publish it in 1C: Администрирование → Общие настройки → Интеграция → "
    "Настройка стандартного интерфейса OData, tick the object (and the catalogs it refers to), «Сохранить и закрыть»; "
    "the base itself must be published on the web server with «Публиковать стандартный интерфейс OData»"
)
RETRYABLE_STATUS = range(500, 600)


def basic_authorization(user: str, password: str) -> str:
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def secrets_from_env() -> list[str]:
    """The password and the Authorization header it makes, to filter out of logs and alerts."""
    password = os.environ.get(PASSWORD_VAR, "")
    if not password:
        return []
    header = basic_authorization(os.environ.get(USER_VAR, "").strip(), password)
    return [password, header, header.removeprefix("Basic ")]


class OnecError(SegmartError):
    """The pull cannot complete; the message says why and what to do, without secrets."""


class ODataClient:
    """GET requests to ``<base>/odata/standard.odata/<entity>``; counts them in ``requests``."""

    def __init__(self, settings: OnecSettings, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.requests = 0
        self._sleep = sleep
        self._authorization = basic_authorization(settings.user, settings.password)
        token = self._authorization.removeprefix("Basic ")
        self.secrets = [s for s in (settings.password, token, self._authorization) if s]

    def url(self, entity: str, params: dict[str, str | int]) -> str:
        query = urlencode(params, quote_via=quote, safe="$,'()")
        return f"{self.settings.odata_root}/{quote(entity, safe='')}?{query}"

    def get(self, entity: str, params: dict[str, str | int]) -> list[dict[str, Any]]:
        """The ``value`` array of one answer, after the retries a transient failure earns."""
        url = self.url(entity, params)
        shown = f"{entity} ({self.settings.odata_root})"
        attempts = self.settings.retries + 1
        pause = self.settings.backoff
        for attempt in range(1, attempts + 1):
            problem = self._attempt(url, entity, shown)
            if isinstance(problem, list):
                return problem
            if attempt == attempts:
                raise OnecError(f"1C {shown}: {problem}, {attempts} attempt(s); {self._advice(problem)}")
            log.warning("1C %s: %s (attempt %d of %d); retrying in %.0f s", shown, problem, attempt, attempts, pause)
            self._sleep(pause)
            pause *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    def _advice(self, problem: str) -> str:
        if "timed out" in problem:
            return (
                f"the server did not answer within SEGMART_ONEC_TIMEOUT={self.settings.timeout:g} s: "
                "raise it, or lower SEGMART_ONEC_PAGE_SIZE, or pull at an hour of less load"
            )
        return "check that the 1C web server is running; the next run retries"

    def _attempt(self, url: str, entity: str, shown: str) -> list[dict[str, Any]] | str:
        """The page's rows, or the transient problem (a str) that earns a retry; raises on the others."""
        request = urllib.request.Request(
            url, headers={"Authorization": self._authorization, "Accept": "application/json"}
        )
        self.requests += 1
        try:
            with urllib.request.urlopen(request, timeout=self.settings.timeout) as answer:
                body = answer.read()
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code in (401, 403):
                raise OnecError(
                    f"1C {shown}: HTTP {exc.code}, the user or the password was not accepted, or the user may not "
                    f"read the object: check {USER_VAR} and {PASSWORD_VAR} (in .env) and that the user has "
                    "read rights to the documents and catalogs the pull reads (a read-only role suffices)"
                ) from None
            if exc.code == 404:
                raise OnecError(
                    f"1C {shown}: HTTP 404, the object is not published in the OData interface; " + PUBLISH_HINT
                ) from None
            if exc.code in RETRYABLE_STATUS:
                return f"HTTP {exc.code} {exc.reason}"
            raise OnecError(f"1C {shown}: HTTP {exc.code} {exc.reason}") from None
        except TimeoutError:
            return "timed out"
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                return "timed out"
            return f"cannot connect ({exc.reason})"
        except (ConnectionError, OSError) as exc:
            return f"connection lost ({type(exc).__name__})"
        return _value(body, shown)

    def pages(
        self, entity: str, *, where: str | None = None, order: str | None = None, select: str | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """Every page of ``entity`` ($top/$skip); the last one is shorter than the page size."""
        size = self.settings.page_size
        skip = 0
        while True:
            params: dict[str, str | int] = {"$format": "json", "$top": size, "$skip": skip}
            if where:
                params["$filter"] = where
            if order:
                params["$orderby"] = order
            if select:
                params["$select"] = select
            rows = self.get(entity, params)
            if rows:
                yield rows
            if len(rows) < size:
                return
            skip += size


def _value(body: bytes, shown: str) -> list[dict[str, Any]]:
    """The ``value`` array of an OData JSON answer; an unexpected shape stops the pull."""
    try:
        document = json.loads(body.decode("utf-8-sig"), parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        start = body[:80].decode("utf-8", errors="replace")
        raise OnecError(
            f"1C {shown}: the answer is not OData JSON ({exc}; it starts {start!r}); "
            "is SEGMART_ONEC_URL the address of the published base?"
        ) from None
    rows = document.get("value") if isinstance(document, dict) else None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        keys = ", ".join(list(document)[:8]) if isinstance(document, dict) else type(document).__name__
        raise OnecError(f"1C {shown}: unexpected answer, no 'value' list of entries (found: {keys})")
    return rows
