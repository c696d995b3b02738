"""Synthetic retail sales exports: UCI Online Retail (I and II) and a 1C:ERP "Реализация" line export.

Everything is drawn from one ``numpy.random.Generator(PCG64(seed))`` in a fixed
order and written in chunks of a fixed number of rows, so the output depends on
the arguments only and memory stays flat however many rows are requested.

The model shared by both formats:

* invoices (documents) are laid out in file order; the time of an invoice is
  the inverse CDF of a (day x hour) intensity table evaluated at the invoice's
  relative row position, so time never goes backwards and invoice numbers grow
  with time; the intensity carries weekly and yearly seasonality;
* an invoice has a geometric number of lines (mean ~19); ~2% of documents are
  cancellations/returns of a recent earlier invoice (same customer, a subset
  of its lines);
* a share of invoices is anonymous (guest / retail counter);
* registered invoices either bring a new customer (customers arrive steadily
  over the period) or are a repeat purchase by an existing one, chosen with a
  heavy-tailed (log-normal) weight: a few whales, a long tail of one-off buyers;
* products are drawn Zipf-like from a fixed catalogue with a fixed price each.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

import numpy as np

log = logging.getLogger(__name__)

FORMATS = ("uci", "uci2", "onec")
UCI_HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"
UCI2_HEADER = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country"
ONEC_HEADER = (
    "date;sale_id;order_date;order_id;buyer;contractor;site_id;product;feature;quantity;sum;address;cash_flow_type"
)
UCI_START_DATE = date(2010, 12, 1)
ONEC_START_DATE = date(2023, 1, 1)
UCI_FIRST_INVOICE = 536365
UCI_FIRST_CUSTOMER_ID = 12346

# Rows per chunk: fixed (not a parameter) so that the output never depends on it.
CHUNK_ROWS = 1 << 17
MEAN_LINES = 19.0
CANCEL_SHARE = 0.02
CANCEL_WINDOW = 2000  # a cancellation refers to one of this many latest eligible invoices
OPEN_HOUR = 7
HOURS_OPEN = 13  # 7:00 - 20:00

Array = np.ndarray


# --------------------------------------------------------------------------- shared engine


class FileSpec(NamedTuple):
    """What one generated file holds and how it is written (shared by every layout's writer)."""

    rows: int
    customers: int
    days: int
    start: date
    encoding: str
    delimiter: str


@dataclass(frozen=True)
class Profile:
    """Format-specific knobs of the shared engine."""

    guest_share: float
    day_weights: Array  # one weight per calendar day
    hour_weights: Array  # HOURS_OPEN weights
    whole_minutes: bool


@dataclass(frozen=True)
class Catalogue:
    cdf: Array  # cumulative popularity over products (float64, ends at 1)
    price_cents: Array  # int64, per product
    pack: Array  # int64, typical pack size in units
    weight_goods: Array  # bool, sold by weight (fractional quantity)
    n_features: Array  # int64, number of characteristics (0: none)


@dataclass
class Chunk:
    """One chunk of whole invoices; quantities are in thousandths of a unit, always positive."""

    doc_no: Array  # int64, 0-based running document number
    cancel: Array  # bool
    cust: Array  # int64 customer index, -1 for guests
    day: Array  # int64 day index from the start date
    sec: Array  # int64 seconds since midnight
    sizes: Array  # int64 lines per invoice
    line_inv: Array  # int64 local invoice index per line
    prod: Array
    qty: Array
    price: Array  # int64 cents per unit
    feat: Array  # int64 characteristic index (meaningless when the product has none)


# Hook applied to the freshly drawn lines of non-cancellation invoices:
# (rng, chunk with line fields of normal lines only, mask of invoices with normal lines) -> None
LineHook = Callable[[np.random.Generator, Chunk], None]


def exclusive_cumsum(values: Array) -> Array:
    out = np.zeros(len(values), dtype=np.int64)
    if len(values) > 1:
        np.cumsum(values[:-1], out=out[1:])
    return out


class Engine:
    def __init__(
        self,
        rng: np.random.Generator,
        *,
        rows: int,
        profile: Profile,
        catalogue: Catalogue,
        cust_weight: Array,
        cust_scale: Array,
        line_hook: LineHook | None = None,
    ) -> None:
        self._rng = rng
        self._rows = rows
        self._done = 0
        self._docs = 0
        self._profile = profile
        self._cat = catalogue
        self._n_cust = len(cust_weight)
        self._wcum = np.cumsum(cust_weight)
        self._scale = cust_scale
        self._hook = line_hook
        self._born = 0
        registered = rows / MEAN_LINES * (1.0 - profile.guest_share - CANCEL_SHARE)
        self._p_new = min(1.0, self._n_cust / max(registered, 1.0))
        slot_w = (profile.day_weights[:, None] * profile.hour_weights[None, :]).ravel().astype(np.float64)
        if not slot_w.sum() > 0:
            slot_w = np.ones_like(slot_w)
        self._slot_w = slot_w
        self._slot_cdf = np.cumsum(slot_w)
        # Recent eligible (registered, not cancelled) invoices a cancellation may refer to.
        self._h_cust = np.zeros(0, dtype=np.int64)
        self._h_len = np.zeros(0, dtype=np.int64)
        self._h_off = np.zeros(0, dtype=np.int64)
        self._h_prod = np.zeros(0, dtype=np.int64)
        self._h_qty = np.zeros(0, dtype=np.int64)
        self._h_price = np.zeros(0, dtype=np.int64)
        self._h_feat = np.zeros(0, dtype=np.int64)
        self.seen = np.zeros(self._n_cust, dtype=bool)

    def chunks(self) -> Iterator[Chunk]:
        while self._done < self._rows:
            yield self._next_chunk()

    # -- invoice layout -------------------------------------------------

    def _layout(self, kind: Array, size_normal: Array, size_cancel: Array, u_src: Array) -> tuple[Array, ...]:
        cancel = kind < CANCEL_SHARE
        guest = kind >= 1.0 - self._profile.guest_share
        eligible = ~cancel & ~guest
        upper = len(self._h_len) + exclusive_cumsum(eligible.astype(np.int64))
        orphan = cancel & (upper == 0)  # nothing to cancel yet: make it an ordinary guest sale
        cancel &= ~orphan
        guest |= orphan
        window = np.minimum(upper, CANCEL_WINDOW)
        src = upper - 1 - (u_src * window).astype(np.int64)
        pool_len = np.concatenate([self._h_len, size_normal[eligible]])
        sizes = size_normal.copy()
        sizes[cancel] = np.minimum(size_cancel[cancel], pool_len[src[cancel]])
        return cancel, guest, eligible, src, sizes

    def _next_chunk(self) -> Chunk:
        rng = self._rng
        remaining = self._rows - self._done
        target = min(CHUNK_ROWS, remaining)
        batch = max(64, int(target / MEAN_LINES * 1.1))
        parts: list[tuple[Array, Array, Array, Array]] = []
        while True:
            parts.append(
                (
                    rng.random(batch),
                    rng.geometric(1.0 / MEAN_LINES, batch).astype(np.int64),
                    rng.geometric(0.45, batch).astype(np.int64),
                    rng.random(batch),
                )
            )
            kind, size_normal, size_cancel, u_src = (np.concatenate(col) for col in zip(*parts, strict=True))
            cancel, guest, eligible, src, sizes = self._layout(kind, size_normal, size_cancel, u_src)
            cum = np.cumsum(sizes)
            if cum[-1] >= target:
                break
        n_inv = int(np.searchsorted(cum, target)) + 1
        cancel, guest, eligible, src, sizes = (a[:n_inv] for a in (cancel, guest, eligible, src, sizes))
        sizes = sizes.copy()
        overflow = int(cum[n_inv - 1]) - remaining
        if overflow > 0:
            sizes[-1] -= overflow
        n_rows = int(sizes.sum())
        start = exclusive_cumsum(sizes)

        day, sec = self._times(start, sizes)
        cust = self._customers(eligible)
        pool_cust = np.concatenate([self._h_cust, cust[eligible]])
        cust[cancel] = pool_cust[src[cancel]]
        self.seen[cust[cust >= 0]] = True

        line_inv = np.repeat(np.arange(n_inv, dtype=np.int64), sizes)
        pos = np.arange(n_rows, dtype=np.int64) - start[line_inv]
        chunk = Chunk(
            doc_no=np.arange(self._docs, self._docs + n_inv, dtype=np.int64),
            cancel=cancel,
            cust=cust,
            day=day,
            sec=sec,
            sizes=sizes,
            line_inv=line_inv,
            prod=np.zeros(n_rows, dtype=np.int64),
            qty=np.zeros(n_rows, dtype=np.int64),
            price=np.zeros(n_rows, dtype=np.int64),
            feat=np.zeros(n_rows, dtype=np.int64),
        )
        normal_lines = ~cancel[line_inv]
        self._draw_lines(chunk, normal_lines)
        self._fill_cancellations(chunk, normal_lines, eligible, src, pos)
        self._remember(chunk, eligible)
        self._done += n_rows
        self._docs += n_inv
        return chunk

    def _times(self, start: Array, sizes: Array) -> tuple[Array, Array]:
        """Monotone map of each invoice's relative row position to (day, second of day)."""
        jitter = self._rng.random(len(sizes))
        q = (self._done + start + jitter * sizes) / self._rows
        x = q * self._slot_cdf[-1]
        slot = np.minimum(np.searchsorted(self._slot_cdf, x, side="right"), len(self._slot_w) - 1)
        before = self._slot_cdf[slot] - self._slot_w[slot]
        frac = np.clip((x - before) / self._slot_w[slot], 0.0, 0.999999)
        within = (frac * 3600).astype(np.int64)
        if self._profile.whole_minutes:
            within -= within % 60
        day = slot // HOURS_OPEN
        sec = (OPEN_HOUR + slot % HOURS_OPEN) * 3600 + within
        return day.astype(np.int64), sec.astype(np.int64)

    def _customers(self, eligible: Array) -> Array:
        """Customer of each registered invoice: a newcomer or a weighted pick among those known so far."""
        rng = self._rng
        cust = np.full(len(eligible), -1, dtype=np.int64)
        n_reg = int(eligible.sum())
        u_new = rng.random(n_reg)
        u_pick = rng.random(n_reg)
        if n_reg == 0:
            return cust
        is_new = u_new < self._p_new
        if self._born == 0:
            is_new[0] = True
        rank = self._born + np.cumsum(is_new) - 1
        is_new &= rank < self._n_cust
        born = self._born + np.cumsum(is_new)
        picked = np.searchsorted(self._wcum, u_pick * self._wcum[born - 1], side="right")
        picked = np.minimum(picked, born - 1)
        cust[eligible] = np.where(is_new, born - 1, picked)
        self._born = int(born[-1])
        return cust

    def _draw_lines(self, chunk: Chunk, normal_lines: Array) -> None:
        rng = self._rng
        cat = self._cat
        n = int(normal_lines.sum())
        inv = chunk.line_inv[normal_lines]
        prod = np.minimum(np.searchsorted(cat.cdf, rng.random(n), side="right"), len(cat.cdf) - 1)
        feat = (rng.random(n) * cat.n_features[prod]).astype(np.int64)
        cust = chunk.cust[inv]
        scale = np.where(cust >= 0, self._scale[np.maximum(cust, 0)], 0.5)
        p_more = np.clip(0.6 / scale, 0.04, 0.95)
        multiple = rng.geometric(p_more).astype(np.int64)
        bulk = rng.random(n) < 0.002
        multiple[bulk] *= 10
        units = cat.pack[prod] * multiple
        grams = np.round(rng.lognormal(math.log(900.0), 0.6, n) / 50.0).astype(np.int64) * 50
        grams = np.clip(grams, 100, 20000) * np.minimum(multiple, 5)
        chunk.prod[normal_lines] = prod
        chunk.feat[normal_lines] = feat
        chunk.qty[normal_lines] = np.where(cat.weight_goods[prod], grams, units * 1000)
        chunk.price[normal_lines] = cat.price_cents[prod]
        if self._hook is not None:
            self._hook(rng, chunk)

    def _fill_cancellations(self, chunk: Chunk, normal_lines: Array, eligible: Array, src: Array, pos: Array) -> None:
        rng = self._rng
        u_off = rng.random(len(chunk.sizes))
        cancel_lines = ~normal_lines
        n_cancel = int(cancel_lines.sum())
        u_part = rng.random(n_cancel)
        u_frac = rng.random(n_cancel)
        if n_cancel == 0:
            return
        in_pool = eligible[chunk.line_inv]
        pool_prod = np.concatenate([self._h_prod, chunk.prod[in_pool]])
        pool_qty = np.concatenate([self._h_qty, chunk.qty[in_pool]])
        pool_price = np.concatenate([self._h_price, chunk.price[in_pool]])
        pool_feat = np.concatenate([self._h_feat, chunk.feat[in_pool]])
        cur_len = chunk.sizes[eligible]
        pool_len = np.concatenate([self._h_len, cur_len])
        pool_off = np.concatenate([self._h_off, len(self._h_prod) + exclusive_cumsum(cur_len)])
        inv = chunk.line_inv[cancel_lines]
        s = src[inv]
        slack = pool_len[s] - chunk.sizes[inv] + 1
        idx = pool_off[s] + (u_off[inv] * slack).astype(np.int64) + pos[cancel_lines]
        qty = pool_qty[idx]
        whole_units = qty // 1000
        partial = (u_part < 0.25) & (qty % 1000 == 0) & (whole_units >= 2)
        qty = np.where(partial, np.maximum(1, (whole_units * u_frac).astype(np.int64)) * 1000, qty)
        chunk.prod[cancel_lines] = pool_prod[idx]
        chunk.qty[cancel_lines] = qty
        chunk.price[cancel_lines] = pool_price[idx]
        chunk.feat[cancel_lines] = pool_feat[idx]

    def _remember(self, chunk: Chunk, eligible: Array) -> None:
        in_pool = eligible[chunk.line_inv]
        cur_len = chunk.sizes[eligible]
        all_len = np.concatenate([self._h_len, cur_len])
        all_off = np.concatenate([self._h_off, len(self._h_prod) + exclusive_cumsum(cur_len)])
        all_cust = np.concatenate([self._h_cust, chunk.cust[eligible]])
        keep = max(0, len(all_len) - CANCEL_WINDOW)
        if keep == len(all_len):
            return
        first = int(all_off[keep])

        def tail(old: Array, new: Array) -> Array:
            return np.concatenate([old, new[in_pool]])[first:].copy()

        self._h_prod = tail(self._h_prod, chunk.prod)
        self._h_qty = tail(self._h_qty, chunk.qty)
        self._h_price = tail(self._h_price, chunk.price)
        self._h_feat = tail(self._h_feat, chunk.feat)
        self._h_len = all_len[keep:].copy()
        self._h_off = all_off[keep:] - first
        self._h_cust = all_cust[keep:].copy()


def customer_weights(rng: np.random.Generator, n: int, boost: Array | None = None) -> tuple[Array, Array]:
    """Heavy-tailed purchase frequency and a matching quantity scale per customer."""
    weight = rng.lognormal(0.0, 1.5, n)
    if boost is not None:
        weight *= boost
    scale = np.clip(weight**0.3, 0.4, 6.0)
    return weight, scale


def seasonal_day_weights(
    rng: np.random.Generator, start: date, days: int, weekday: tuple[float, ...], closed: Callable[[date], float]
) -> Array:
    weights = np.empty(days, dtype=np.float64)
    noise = rng.lognormal(0.0, 0.18, days)
    for i in range(days):
        d = start + timedelta(days=i)
        doy = d.timetuple().tm_yday
        # autumn build-up peaking mid-November (~2x), mild growth trend
        yearly = (
            1.0 + 1.0 * math.exp(-0.5 * ((doy - 320) / 30.0) ** 2) + 0.35 * math.exp(-0.5 * ((doy - 270) / 25.0) ** 2)
        )
        trend = 1.0 + 0.25 * i / 365.0
        weights[i] = weekday[d.weekday()] * yearly * trend * closed(d) * noise[i]
    return weights
