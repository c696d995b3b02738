"""Synthetic retail sales exports: UCI Online Retail (I and II) and 1C:ERP «Реализация» lines.

The shared invoice model lives in ``engine``; ``uci`` and ``onec`` add each
layout's catalogue and writer; ``output`` turns drawn columns into bytes.
"""

from __future__ import annotations

import codecs
import logging
from datetime import date
from pathlib import Path

import numpy as np

from segmart.generate.sales.engine import (
    CHUNK_ROWS,
    FORMATS,
    ONEC_HEADER,
    ONEC_START_DATE,
    UCI2_HEADER,
    UCI_HEADER,
    UCI_START_DATE,
    FileSpec,
)
from segmart.generate.sales.onec import write_onec
from segmart.generate.sales.output import open_output
from segmart.generate.sales.uci import write_uci

__all__ = ["CHUNK_ROWS", "FORMATS", "ONEC_HEADER", "UCI2_HEADER", "UCI_HEADER", "generate_sales"]

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- public API


def generate_sales(
    path: str | Path,
    *,
    fmt: str = "uci",
    rows: int,
    customers: int,
    days: int,
    seed: int,
    start_date: date | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> dict[str, int | str]:
    """Write a synthetic sales export of exactly ``rows`` data lines plus a header.

    ``fmt`` is ``uci`` (Online Retail), ``uci2`` (Online Retail II header) or ``onec``
    (1C:ERP "Реализация" lines). ``customers`` is the size of the customer base;
    the invoices are spread over ``days`` calendar days from ``start_date``
    (default 2010-12-01 for UCI, 2023-01-01 for 1C). A path ending in ``.gz`` is
    gzip-compressed (reproducibly: no timestamp or file name in the header).
    Defaults: UTF-8 and ``,`` for UCI, cp1251 and ``;`` for 1C.

    Returns counts: ``rows``, ``invoices``, ``cancellations``, ``customers``
    (distinct registered customers that appear) and ``bytes`` (file size).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if rows < 0 or customers < 1 or days < 1:
        raise ValueError("rows must be >= 0, customers and days >= 1")
    if delimiter is not None and (len(delimiter) != 1 or delimiter in '"\r\n'):
        raise ValueError(f"invalid delimiter {delimiter!r}")
    onec = fmt == "onec"
    start = start_date or (ONEC_START_DATE if onec else UCI_START_DATE)
    enc = encoding or ("cp1251" if onec else "utf-8")
    # pieces are encoded separately, so a BOM codec would repeat its BOM in every
    # field: write the BOM once here and encode the rest as plain UTF-8
    with_bom = codecs.lookup(enc).name in {"utf-8-sig", "utf_8_sig"}
    if with_bom:
        enc = "utf-8"
    delim = delimiter or (";" if onec else ",")
    out_path = Path(path)
    rng = np.random.Generator(np.random.PCG64(seed))
    spec = FileSpec(rows, customers, days, start, enc, delim)
    with open_output(out_path) as out:
        if with_bom:
            out.write(codecs.BOM_UTF8)
        if onec:
            written, invoices, distinct, cancels = write_onec(out, rng, spec)
        else:
            header = (UCI_HEADER if fmt == "uci" else UCI2_HEADER).replace(",", delim)
            written, invoices, distinct, cancels = write_uci(out, rng, spec, header)
    stats: dict[str, int | str] = {
        "path": str(out_path),
        "format": fmt,
        "rows": written,
        "invoices": invoices,
        "cancellations": cancels,
        "customers": distinct,
        "bytes": out_path.stat().st_size,
    }
    log.debug("generated %s", stats)
    return stats
