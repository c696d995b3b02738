"""A 1C:ERP base behind its standard OData interface, on 127.0.0.1, for the tests and the benchmark.

``OnecBase.from_export`` turns the generator's 1C CSV export into what 1C would
serve: catalogs (products, characteristics, partners, counterparties,
warehouses), customer orders, sales and customer returns with their goods rows,
all keyed by Ref_Key, so that a pull of the base equals the CSV export. The
tests then change the base as 1C users do (re-post with other lines, unpost,
mark for deletion) and inject faults (a 5xx, a slow page, a wrong password).

``OnecStub`` serves it as 1C does: ``/<base>/odata/standard.odata/<entity>``
with ``$format=json``, ``$top``/``$skip``, ``$filter=Date ge datetime'…'``,
``$orderby=Date``, ``$select``, basic authentication; answers are
``{"odata.metadata": …, "value": […]}``; an unpublished entity is a 404.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from pytests.support.files import onec_rows

NAMESPACE = uuid.UUID("5e9a0c1e-0d1c-4c1a-9a3e-1c0000000019")
EMPTY_REF = "00000000-0000-0000-0000-000000000000"
EMPTY_DATE = "0001-01-01T00:00:00"
SALES = "Document_РеализацияТоваровУслуг"
RETURNS = "Document_ВозвратТоваровОтКлиента"
ORDERS = "Document_ЗаказКлиента"
ORGANISATION = str(uuid.uuid5(NAMESPACE, "organisation"))
_FILTER_RE = re.compile(r"Date ge datetime'([0-9T:-]+)'")


def ref(kind: str, key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{key}"))


def _iso(text: str) -> str:
    return datetime.strptime(text, "%d.%m.%Y %H:%M:%S").isoformat() if text else EMPTY_DATE


def _number(text: str) -> Decimal:
    return Decimal(text.replace(" ", "").replace(",", "."))


@dataclass
class OnecBase:
    """The served entities: entity name -> entries (documents carry their «Товары» rows)."""

    entities: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def from_export(cls, path: Path) -> OnecBase:
        header, data = onec_rows(path)
        base = cls()
        catalogs: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)

        def entry(entity: str, key: str, **values: Any) -> str:
            found = catalogs[entity].get(key)
            if found is None:
                found = {"Ref_Key": ref(entity, key), "DeletionMark": False, **values}
                catalogs[entity][key] = found
            return found["Ref_Key"]

        documents: dict[str, dict[str, Any]] = {}
        for values in data:
            line = dict(zip(header, values, strict=True))
            number = line["sale_id"]
            document = documents.get(number)
            if document is None:
                order_key = (
                    entry(ORDERS, line["order_id"], Number=line["order_id"], Date=_iso(line["order_date"]), Posted=True)
                    if line["order_id"]
                    else EMPTY_REF
                )
                returned = line["cash_flow_type"] == "возврат"
                document = {
                    "Ref_Key": ref("document", number),
                    "DataVersion": "AAAAAQAAAAA=",
                    "DeletionMark": False,
                    "Number": number,
                    "Date": _iso(line["date"]),
                    "Posted": True,
                    "Организация_Key": ORGANISATION,
                    "Партнер_Key": entry("Catalog_Партнеры", line["buyer"], Description=line["buyer"], Code=""),
                    "Контрагент_Key": entry(
                        "Catalog_Контрагенты", line["contractor"], Description=line["contractor"], Code=""
                    ),
                    "Склад_Key": entry(
                        "Catalog_Склады", line["site_id"], Description=f"Склад {line['site_id']}", Code=line["site_id"]
                    ),
                    "ЗаказКлиента_Key": order_key,
                    "АдресДоставки": line["address"],
                    "Товары": [],
                    "_entity": RETURNS if returned else SALES,
                }
                documents[number] = document
            quantity, amount = _number(line["quantity"]), _number(line["sum"])
            document["Товары"].append(
                {
                    "Ref_Key": document["Ref_Key"],
                    "LineNumber": str(len(document["Товары"]) + 1),
                    "Номенклатура_Key": entry("Catalog_Номенклатура", line["product"], Description=line["product"]),
                    "Характеристика_Key": entry(
                        "Catalog_ХарактеристикиНоменклатуры", line["feature"], Description=line["feature"]
                    )
                    if line["feature"]
                    else EMPTY_REF,
                    "Количество": quantity,
                    "Цена": (amount / quantity).quantize(Decimal("0.01")) if quantity else Decimal(0),
                    "Сумма": amount,
                    "СуммаНДС": Decimal(0),
                    "СуммаСНДС": amount,
                }
            )
        for entity, entries in catalogs.items():
            base.entities[entity] = list(entries.values())
        for document in documents.values():
            base.entities[document.pop("_entity")].append(document)
        return base

    def documents(self) -> Iterator[dict[str, Any]]:
        yield from self.entities[SALES]
        yield from self.entities[RETURNS]

    def document(self, number: str) -> dict[str, Any]:
        for document in self.documents():
            if document["Number"] == number:
                return document
        raise KeyError(number)

    def latest(self, count: int, *, entity: str = SALES) -> list[dict[str, Any]]:
        """The ``count`` newest documents of ``entity``, newest first."""
        return sorted(self.entities[entity], key=lambda d: (d["Date"], d["Number"]), reverse=True)[:count]


@dataclass
class Fault:
    """Answer requests of ``entity`` (at ``skip``, or any) with a ``status`` or after ``delay`` seconds."""

    entity: str
    skip: int | None = None
    status: int | None = None
    delay: float = 0.0
    times: int = 1  # how many matching requests it hits (then the stub answers normally)


@dataclass
class Seen:
    raw_path: str
    entity: str
    params: dict[str, str]


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(type(value).__name__)


class OnecStub:
    """The base served on 127.0.0.1 as ``http://127.0.0.1:<port>/erp`` (use as a context manager)."""

    def __init__(self, base: OnecBase, *, user: str = "segmart", password: str = "p@ss-Пароль-19") -> None:
        self.base = base
        self.user = user
        self.password = password
        self.faults: list[Fault] = []
        self.seen: list[Seen] = []
        self.unpublished: set[str] = set()
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                stub._answer(self)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/erp"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "SEGMART_ONEC_URL": self.url,
            "SEGMART_ONEC_USER": self.user,
            "SEGMART_ONEC_PASSWORD": self.password,
            "SEGMART_ONEC_BACKOFF": "0.05",
            **extra,
        }

    def __enter__(self) -> OnecStub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def requests_of(self, entity: str) -> list[Seen]:
        return [seen for seen in self.seen if seen.entity == entity]

    # ------------------------------------------------------------ answering

    def _send(self, handler: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False, default=_encode).encode("utf-8")
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json;charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        if status == 401:
            handler.send_header("WWW-Authenticate", 'Basic realm="1C"')
        handler.end_headers()
        try:
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout)

    def _error(self, handler: BaseHTTPRequestHandler, status: int, message: str) -> None:
        self._send(handler, status, {"odata.error": {"code": str(status), "message": {"lang": "ru", "value": message}}})

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        prefix = "/erp/odata/standard.odata/"
        entity = unquote(parts.path[len(prefix) :]) if parts.path.startswith(prefix) else ""
        params = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        with self._lock:
            self.seen.append(Seen(handler.path, entity, params))
        expected = "Basic " + base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        if handler.headers.get("Authorization") != expected:
            self._error(handler, 401, "Не удалось выполнить аутентификацию")
            return
        skip = int(params.get("$skip", 0))
        with self._lock:
            fault = next(
                (f for f in self.faults if f.times > 0 and f.entity == entity and f.skip in (None, skip)), None
            )
            if fault is not None:
                fault.times -= 1
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.status:
                self._error(handler, fault.status, "Ошибка сервера 1С:Предприятия")
                return
        if entity in self.unpublished or entity not in self.base.entities:
            self._error(handler, 404, f"Не найден ресурс {entity}")
            return
        if params.get("$format") != "json":
            self._error(handler, 400, "only $format=json is served by the stub")
            return
        entries = self.base.entities[entity]
        where = params.get("$filter")
        if where:
            match = _FILTER_RE.fullmatch(where)
            if match is None:
                self._error(handler, 400, f"unsupported $filter {where}")
                return
            entries = [e for e in entries if e["Date"] >= match.group(1)]
        if params.get("$orderby"):
            if params["$orderby"] != "Date":
                self._error(handler, 400, f"unsupported $orderby {params['$orderby']}")
                return
            entries = sorted(entries, key=lambda e: (e["Date"], e["Ref_Key"]))
        top = int(params.get("$top", len(entries)))
        page = entries[skip : skip + top]
        if params.get("$select"):
            wanted = params["$select"].split(",")
            page = [{k: e[k] for k in wanted if k in e} for e in page]
        root = self.url + "/odata/standard.odata"
        self._send(handler, 200, {"odata.metadata": f"{root}/$metadata#{entity}", "value": page})
