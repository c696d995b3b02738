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

import codecs
import gzip
import logging
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import BinaryIO

import numpy as np

from loaders.generate import names_ru

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


@dataclass(frozen=True)
class _Profile:
    """Format-specific knobs of the shared engine."""

    guest_share: float
    day_weights: Array  # one weight per calendar day
    hour_weights: Array  # HOURS_OPEN weights
    whole_minutes: bool


@dataclass(frozen=True)
class _Catalogue:
    cdf: Array  # cumulative popularity over products (float64, ends at 1)
    price_cents: Array  # int64, per product
    pack: Array  # int64, typical pack size in units
    weight_goods: Array  # bool, sold by weight (fractional quantity)
    n_features: Array  # int64, number of characteristics (0: none)


@dataclass
class _Chunk:
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
LineHook = Callable[[np.random.Generator, _Chunk], None]


def _exclusive_cumsum(values: Array) -> Array:
    out = np.zeros(len(values), dtype=np.int64)
    if len(values) > 1:
        np.cumsum(values[:-1], out=out[1:])
    return out


class _Engine:
    def __init__(
        self,
        rng: np.random.Generator,
        *,
        rows: int,
        profile: _Profile,
        catalogue: _Catalogue,
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

    def chunks(self) -> Iterator[_Chunk]:
        while self._done < self._rows:
            yield self._next_chunk()

    # -- invoice layout -------------------------------------------------

    def _layout(self, kind: Array, size_normal: Array, size_cancel: Array, u_src: Array) -> tuple[Array, ...]:
        cancel = kind < CANCEL_SHARE
        guest = kind >= 1.0 - self._profile.guest_share
        eligible = ~cancel & ~guest
        upper = len(self._h_len) + _exclusive_cumsum(eligible.astype(np.int64))
        orphan = cancel & (upper == 0)  # nothing to cancel yet: make it an ordinary guest sale
        cancel &= ~orphan
        guest |= orphan
        window = np.minimum(upper, CANCEL_WINDOW)
        src = upper - 1 - (u_src * window).astype(np.int64)
        pool_len = np.concatenate([self._h_len, size_normal[eligible]])
        sizes = size_normal.copy()
        sizes[cancel] = np.minimum(size_cancel[cancel], pool_len[src[cancel]])
        return cancel, guest, eligible, src, sizes

    def _next_chunk(self) -> _Chunk:
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
        start = _exclusive_cumsum(sizes)

        day, sec = self._times(start, sizes)
        cust = self._customers(eligible)
        pool_cust = np.concatenate([self._h_cust, cust[eligible]])
        cust[cancel] = pool_cust[src[cancel]]
        self.seen[cust[cust >= 0]] = True

        line_inv = np.repeat(np.arange(n_inv, dtype=np.int64), sizes)
        pos = np.arange(n_rows, dtype=np.int64) - start[line_inv]
        chunk = _Chunk(
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

    def _draw_lines(self, chunk: _Chunk, normal_lines: Array) -> None:
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

    def _fill_cancellations(self, chunk: _Chunk, normal_lines: Array, eligible: Array, src: Array, pos: Array) -> None:
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
        pool_off = np.concatenate([self._h_off, len(self._h_prod) + _exclusive_cumsum(cur_len)])
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

    def _remember(self, chunk: _Chunk, eligible: Array) -> None:
        in_pool = eligible[chunk.line_inv]
        cur_len = chunk.sizes[eligible]
        all_len = np.concatenate([self._h_len, cur_len])
        all_off = np.concatenate([self._h_off, len(self._h_prod) + _exclusive_cumsum(cur_len)])
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


# --------------------------------------------------------------------------- helpers


def quote(value: str, delimiter: str) -> str:
    """RFC 4180 minimal quoting."""
    if delimiter in value or '"' in value or "\n" in value or "\r" in value:
        return '"' + value.replace('"', '""') + '"'
    return value


def _encoded(texts: list[str], encoding: str) -> Array:
    """Object array of the texts encoded once (tables are encoded up front, never per line)."""
    out = np.empty(len(texts), dtype=object)
    out[:] = [t.encode(encoding) for t in texts]
    return out


def _ascii_pieces(texts: list[str]) -> Array:
    """Encode many short ASCII strings at once (one join, one encode, one split)."""
    out = np.empty(len(texts), dtype=object)
    if texts:
        out[:] = "\n".join(texts).encode("ascii").split(b"\n")
    return out


def _assemble(columns: list[Array]) -> bytes:
    """Interleave per-line byte pieces column by column and join them.

    ``bytes.join`` keeps a buffer descriptor per item while it runs, so the
    pieces are joined in blocks of rows to keep that overhead small.
    """
    grid = np.empty((len(columns[0]), len(columns)), dtype=object)
    for j, column in enumerate(columns):
        grid[:, j] = column
    pieces = grid.ravel().tolist()
    step = 4096 * len(columns)
    return b"".join([b"".join(pieces[i : i + step]) for i in range(0, len(pieces), step)])


def _weighted_cdf(weights: Array) -> Array:
    cdf = np.cumsum(np.asarray(weights, dtype=np.float64))
    cdf /= cdf[-1]
    return cdf


def _pick(rng: np.random.Generator, weights: Array, n: int) -> Array:
    return _draw_cdf(_weighted_cdf(weights), rng.random(n))


def _zipf_cdf(rng: np.random.Generator, n: int, offset: float = 30.0, exponent: float = 0.95) -> Array:
    rank = rng.permutation(n)
    return _weighted_cdf(1.0 / (rank + offset) ** exponent)


def _customer_weights(rng: np.random.Generator, n: int, boost: Array | None = None) -> tuple[Array, Array]:
    """Heavy-tailed purchase frequency and a matching quantity scale per customer."""
    weight = rng.lognormal(0.0, 1.5, n)
    if boost is not None:
        weight *= boost
    scale = np.clip(weight**0.3, 0.4, 6.0)
    return weight, scale


def _seasonal_day_weights(
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


@contextmanager
def _open_output(path: Path) -> Iterator[BinaryIO]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as raw:
        if path.name.endswith(".gz"):
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=1, mtime=0) as gz:
                yield gz  # type: ignore[misc]
        else:
            yield raw


# --------------------------------------------------------------------------- UCI


_UCI_COUNTRIES: tuple[tuple[str, float], ...] = (
    ("United Kingdom", 89.0),
    ("Germany", 2.1),
    ("France", 1.9),
    ("EIRE", 1.6),
    ("Spain", 0.55),
    ("Netherlands", 0.45),
    ("Belgium", 0.45),
    ("Switzerland", 0.4),
    ("Portugal", 0.3),
    ("Australia", 0.25),
    ("Norway", 0.2),
    ("Italy", 0.18),
    ("Channel Islands", 0.15),
    ("Finland", 0.13),
    ("Cyprus", 0.12),
    ("Sweden", 0.09),
    ("Unspecified", 0.08),
    ("Austria", 0.08),
    ("Denmark", 0.07),
    ("Japan", 0.07),
    ("Poland", 0.06),
    ("Israel", 0.05),
    ("USA", 0.05),
    ("Hong Kong", 0.05),
    ("Singapore", 0.04),
    ("Iceland", 0.03),
    ("Canada", 0.03),
    ("Greece", 0.03),
    ("Malta", 0.03),
    ("United Arab Emirates", 0.02),
    ("European Community", 0.01),
    ("RSA", 0.01),
    ("Lebanon", 0.01),
    ("Lithuania", 0.01),
    ("Brazil", 0.01),
    ("Czech Republic", 0.01),
    ("Bahrain", 0.01),
    ("Saudi Arabia", 0.005),
)

_UCI_COLOURS = (
    "WHITE", "RED", "PINK", "BLUE", "GREEN", "IVORY", "CREAM", "BLACK", "SILVER", "GOLD",
    "PURPLE", "ORANGE", "YELLOW", "PASTEL", "RUSTIC",
)  # fmt: skip
_UCI_MOTIFS = (
    "HEART", "STAR", "RETROSPOT", "POLKADOT", "FLORAL", "PAISLEY", "BIRD", "OWL", "CHRISTMAS", "REGENCY",
    "VINTAGE", "BAROQUE", "SKULL", "DOLLY GIRL", "SPACEBOY", "WOODLAND", "STRAWBERRY", "LOVEBIRD", "ROSE",
    "DAISY", "SNOWFLAKE", "GINGHAM", "PARIS", "LONDON", "ENGLISH ROSE", "JAM MAKING", "ALPHABET", "CIRCUS",
    "FAIRY", "ANTIQUE",
)  # fmt: skip
_UCI_OBJECTS = (
    "T-LIGHT HOLDER", "HANGING LANTERN", "CAKE STAND", "TEA CUP AND SAUCER", "LUNCH BAG", "JUMBO BAG",
    "SHOPPER BAG", "NOTEBOOK", "MUG", "CANDLE", "CUSHION COVER", "DOORMAT", "PHOTO FRAME", "WALL CLOCK",
    "PAPER NAPKINS", "PARTY BUNTING", "GIFT WRAP", "STORAGE TIN", "LUNCH BOX", "WATER BOTTLE", "BAKING CASES",
    "TRINKET BOX", "HOT WATER BOTTLE", "HAND WARMER", "GARDEN MARKER", "PEG BAG", "APRON", "OVEN GLOVE",
    "TEA TOWEL", "HANGING ORNAMENT", "DRAWER KNOB", "COAT RACK", "KEY FOB", "PURSE", "PENCIL CASE",
    "STICKER SHEET", "CHALKBOARD", "BELL DECORATION", "SNOW GLOBE", "WRITING SET", "JIGSAW", "PICNIC BASKET",
)  # fmt: skip

_UCI_N_PRODUCTS = 3600
# Non-product codes appended after the catalogue: (code, description, fixed price in cents or 0 = varies)
_UCI_SPECIAL = (("POST", "POSTAGE", 1800), ("DOT", "DOTCOM POSTAGE", 0), ("M", "Manual", 0), ("C2", "CARRIAGE", 5000))


def _uci_descriptions(rng: np.random.Generator, n: int) -> list[str]:
    nc, nm, no = len(_UCI_COLOURS), len(_UCI_MOTIFS), len(_UCI_OBJECTS)
    combos = rng.choice(nc * nm * no, size=n, replace=False)
    template = _pick(rng, np.array([0.45, 0.2, 0.12, 0.07, 0.16]), n)
    set_size = rng.choice(np.array([3, 4, 6, 10, 12, 20]), n)
    seen: set[str] = set()
    out: list[str] = []
    for combo, tpl, k in zip(combos.tolist(), template.tolist(), set_size.tolist(), strict=True):
        c = _UCI_COLOURS[combo // (nm * no)]
        m = _UCI_MOTIFS[combo // no % nm]
        o = _UCI_OBJECTS[combo % no]
        variants = (
            f"{c} {m} {o}",
            f"{m} {o}",
            f"SET/{k} {c} {m} {o}",
            f"{o}, {m} DESIGN",
            f"{o} {c} {m}",
        )
        text = variants[tpl]
        if text in seen:
            text = variants[0]
        while text in seen:
            text += " II"
        seen.add(text)
        out.append(text)
    return out


def _uci_catalogue(rng: np.random.Generator, delimiter: str) -> tuple[_Catalogue, list[str], list[str], int]:
    """Returns the catalogue, the pre-joined ``StockCode<d>Description`` field per product, the price text
    per product and the index of the first special code."""
    n = _UCI_N_PRODUCTS
    bases = np.sort(rng.choice(np.arange(10002, 90000), size=n, replace=False))
    variant = rng.random(n)
    codes: list[str] = []
    i = 0
    for base in bases.tolist():
        if len(codes) >= n:
            break
        if variant[i] < 0.08:  # a family of colour variants: 85123A, 85123B, ...
            for letter in "ABCD"[: 2 + i % 3]:
                codes.append(f"{base}{letter}")
        elif variant[i] < 0.12:
            codes.append(f"{base}{'ABCDEFG'[i % 7]}")
        else:
            codes.append(str(base))
        i += 1
    codes = codes[:n]
    descriptions = _uci_descriptions(rng, n)
    price = np.exp(rng.normal(math.log(2.1), 0.85, n))
    price = np.clip(price, 0.29, 49.95)
    cents = np.where(price < 1.0, np.round(price * 100), np.round(price * 20) * 5).astype(np.int64)
    pack_choices = (
        (0.6, (12, 24, 48)),
        (1.5, (6, 10, 12, 24)),
        (3.0, (2, 3, 4, 6, 12)),
        (6.0, (1, 2, 4, 6)),
        (1e9, (1, 1, 2)),
    )
    u = rng.random(n)
    pack = np.empty(n, dtype=np.int64)
    for j, p in enumerate((cents / 100.0).tolist()):
        options = next(opts for limit, opts in pack_choices if p < limit)
        pack[j] = options[int(u[j] * len(options))]
    cdf = _zipf_cdf(rng, n)

    # specials get zero popularity: they are placed by the line hook only
    n_all = n + len(_UCI_SPECIAL)
    cdf_all = np.concatenate([cdf, np.ones(len(_UCI_SPECIAL))])
    cents_all = np.concatenate([cents, np.array([c for _, _, c in _UCI_SPECIAL], dtype=np.int64)])
    catalogue = _Catalogue(
        cdf=cdf_all,
        price_cents=cents_all,
        pack=np.concatenate([pack, np.ones(len(_UCI_SPECIAL), dtype=np.int64)]),
        weight_goods=np.zeros(n_all, dtype=bool),
        n_features=np.zeros(n_all, dtype=np.int64),
    )
    all_codes = codes + [code for code, _, _ in _UCI_SPECIAL]
    all_desc = descriptions + [d for _, d, _ in _UCI_SPECIAL]
    code_desc = [
        f"{quote(c, delimiter)}{delimiter}{quote(d, delimiter)}" for c, d in zip(all_codes, all_desc, strict=True)
    ]
    price_text = [_uci_price(c) for c in cents_all.tolist()]
    return catalogue, code_desc, price_text, n


def _uci_price(cents: int) -> str:
    return repr(cents / 100)


def _uci_day_weights(rng: np.random.Generator, start: date, days: int) -> Array:
    def closed(d: date) -> float:
        # the shop closes over Christmas and New Year
        return 0.0 if (d.month == 12 and d.day >= 23) or (d.month == 1 and d.day <= 3) else 1.0

    weights = _seasonal_day_weights(rng, start, days, (1.0, 1.1, 1.1, 1.3, 0.9, 0.0, 0.7), closed)
    if not weights.sum() > 0:  # a window that only covers closed days: open every weekday but Saturday
        weights = np.array([0.0 if (start + timedelta(days=i)).weekday() == 5 else 1.0 for i in range(days)])
    return weights


def _uci_hook(country_home: Array, special0: int) -> LineHook:
    post, dot, manual, carriage = (special0 + k for k in range(4))

    def hook(rng: np.random.Generator, chunk: _Chunk) -> None:
        n_rows = len(chunk.line_inv)
        last = np.zeros(n_rows, dtype=bool)
        last[np.cumsum(chunk.sizes) - 1] = True
        inv_cust = chunk.cust[chunk.line_inv]
        registered = inv_cust >= 0
        abroad = registered & ~country_home[np.maximum(inv_cust, 0)]
        u = rng.random(n_rows)
        u2 = rng.random(n_rows)
        normal = ~chunk.cancel[chunk.line_inv]
        is_post = normal & last & abroad & (u < 0.55)
        is_carriage = normal & last & abroad & (u >= 0.55) & (u < 0.6)
        is_dot = normal & last & ~registered & (u < 0.12)
        is_manual = normal & ~last & (u < 0.0008)
        chunk.prod[is_post] = post
        chunk.qty[is_post] = (1 + (u2[is_post] * 3).astype(np.int64)) * 1000
        chunk.price[is_post] = 1800
        chunk.prod[is_carriage] = carriage
        chunk.qty[is_carriage] = 1000
        chunk.price[is_carriage] = 5000
        chunk.prod[is_dot] = dot
        chunk.qty[is_dot] = 1000
        chunk.price[is_dot] = np.clip(
            np.round(np.exp(math.log(120.0) + 0.7 * (u2[is_dot] * 2 - 1) * 2) * 100), 100, 200000
        )
        chunk.prod[is_manual] = manual
        chunk.qty[is_manual] = 1000
        chunk.price[is_manual] = np.clip(
            np.round(np.exp(math.log(2.5) + 2.0 * (u2[is_manual] - 0.5) * 2) * 100), 1, 50000
        )

    return hook


def _write_uci(
    out: BinaryIO,
    rng: np.random.Generator,
    *,
    header: str,
    rows: int,
    customers: int,
    days: int,
    start: date,
    encoding: str,
    delimiter: str,
) -> tuple[int, int, int, int]:
    d = delimiter
    catalogue, code_desc, price_text, special0 = _uci_catalogue(rng, d)
    country_names = [name for name, _ in _UCI_COUNTRIES]
    country_w = np.array([w for _, w in _UCI_COUNTRIES])
    cust_country = _pick(rng, country_w, customers)
    if customers >= 4 * len(country_w):
        # every country has at least one customer, however small the customer base
        cust_country[rng.choice(customers, size=len(country_w) - 1, replace=False)] = np.arange(1, len(country_w))
    weight, scale = _customer_weights(rng, customers)
    if UCI_FIRST_CUSTOMER_ID + customers > 100_000:
        log.warning("%d customers do not fit 5-digit CustomerIDs; the last ones get 6 digits", customers)
    cust_field = [
        f"{UCI_FIRST_CUSTOMER_ID + i}{d}{quote(country_names[c], d)}" for i, c in enumerate(cust_country.tolist())
    ]
    guest_w = country_w.copy()
    guest_w[0] *= 2.5
    guest_field = [f"{d}{quote(name, d)}" for name in country_names]
    profile = _Profile(
        guest_share=0.25,
        day_weights=_uci_day_weights(rng, start, days),
        hour_weights=np.array([0.1, 0.6, 1.0, 1.6, 1.8, 2.2, 2.0, 1.7, 1.4, 0.8, 0.4, 0.2, 0.15]),
        whole_minutes=True,
    )
    engine = _Engine(
        rng,
        rows=rows,
        profile=profile,
        catalogue=catalogue,
        cust_weight=weight,
        cust_scale=scale,
        line_hook=_uci_hook(cust_country == 0, special0),
    )
    day_text = [(start + timedelta(days=i)).isoformat() for i in range(days)]
    minute_text = [f"{m // 60:02d}:{m % 60:02d}:00" for m in range(24 * 60)]
    code_desc_b = _encoded([f"{t}{d}" for t in code_desc], encoding)
    price_b = _encoded([f"{t}{d}" for t in price_text], encoding)
    cust_b = _encoded([f"{t}\n" for t in cust_field], encoding)
    guest_b = _encoded([f"{t}\n" for t in guest_field], encoding)
    written = n_inv = n_cancel = 0
    out.write((header + "\n").encode(encoding))
    for chunk in engine.chunks():
        guest_country = _pick(rng, guest_w, len(chunk.sizes))
        inv_no = (chunk.doc_no + UCI_FIRST_INVOICE).tolist()
        head = _encoded(
            [f"C{n}{d}" if c else f"{n}{d}" for n, c in zip(inv_no, chunk.cancel.tolist(), strict=True)], encoding
        )
        stamp = _encoded(
            [
                f"{day_text[dd]} {minute_text[ss // 60]}{d}"
                for dd, ss in zip(chunk.day.tolist(), chunk.sec.tolist(), strict=True)
            ],
            encoding,
        )
        tail = np.where(chunk.cust >= 0, cust_b[np.maximum(chunk.cust, 0)], guest_b[guest_country])
        li = chunk.line_inv
        sign = np.where(chunk.cancel[li], -1, 1)
        qty_values, qty_index = np.unique(chunk.qty // 1000 * sign, return_inverse=True)
        qty_b = _encoded([f"{q}{d}" for q in qty_values.tolist()], encoding)[qty_index]
        price = price_b[chunk.prod]
        odd = np.flatnonzero(chunk.price != catalogue.price_cents[chunk.prod])
        for j, c in zip(odd.tolist(), chunk.price[odd].tolist(), strict=True):
            price[j] = f"{_uci_price(c)}{d}".encode(encoding)
        out.write(_assemble([head[li], code_desc_b[chunk.prod], qty_b, stamp[li], price, tail[li]]))
        written += len(li)
        n_inv += len(chunk.sizes)
        n_cancel += int(chunk.cancel.sum())
    return written, n_inv, int(engine.seen.sum()), n_cancel


# --------------------------------------------------------------------------- 1C


# "head|tail" so that the brand goes in between: Молоко «Зорька» 3,2% 1 л
_RU_PACKAGED = (
    "Молоко|3,2% 1 л", "Кефир|2,5% 900 г", "Масло сливочное|82,5% 180 г", "Сметана|20% 350 г", "Творог|9% 400 г",
    "Йогурт питьевой|клубника 270 г", "Сыр плавленый|200 г", "Кофе молотый|250 г", "Кофе растворимый|95 г",
    "Чай чёрный|100 пак.", "Чай зелёный|25 пак.", "Макароны спагетти|450 г", "Рис круглозёрный|900 г",
    "Гречка ядрица|800 г", "Мука пшеничная|2 кг", "Сахар-рафинад|500 г", "Масло подсолнечное|1 л",
    "Майонез|67% 400 г", "Кетчуп томатный|350 г", "Шоколад молочный|90 г", "Печенье овсяное|300 г",
    "Конфеты ассорти|200 г", "Сок яблочный|1 л", "Вода минеральная|1,5 л", "Тунец консервированный|185 г",
    "Горошек зелёный|400 г", "Хлопья овсяные|500 г", "Мёд цветочный|250 г", "Джем клубничный|320 г",
    "Соль поваренная|1 кг",
)  # fmt: skip
_RU_WEIGHT = (
    "Сахар-песок|весовой", "Картофель|", "Морковь|", "Лук репчатый|", "Яблоки|Гала", "Бананы|", "Апельсины|",
    "Огурцы|среднеплодные", "Томаты|сливовидные", "Сыр Российский|50%", "Колбаса Докторская|варёная",
    "Филе куриное|охлаждённое", "Свинина|шейка", "Говядина|лопатка", "Орехи грецкие|очищенные",
    "Печенье|весовое", "Минтай|с/м", "Креветки|в/м 70/90",
)  # fmt: skip
_RU_HOUSEHOLD = (
    "Средство для мытья посуды|500 мл", "Стиральный порошок|3 кг", "Гель для стирки|1,3 л",
    "Бумага туалетная|4 рул.", "Полотенца бумажные|2 рул.", "Мешки для мусора|60 л, 20 шт.",
    "Губки для посуды|5 шт.", "Мыло жидкое|500 мл", "Шампунь|400 мл", "Зубная паста|100 мл",
    "Освежитель воздуха|300 мл", "Салфетки влажные|100 шт.",
)  # fmt: skip
_RU_CLOTHES = (
    "Футболка мужская|хлопок", "Футболка женская|хлопок", "Джинсы мужские|прямые", "Джинсы женские|скинни",
    "Свитер вязаный|", "Куртка демисезонная|", "Толстовка|с капюшоном", "Платье летнее|", "Брюки спортивные|",
    "Рубашка офисная|", "Шапка вязаная|",
)  # fmt: skip
_RU_SHOES = ("Кроссовки беговые|", "Ботинки зимние|", "Туфли женские|", "Сандалии детские|")
_RU_TECH = (
    "Кабель USB-C|1 м", "Зарядное устройство|20 Вт", "Лампа светодиодная|E27 10 Вт", "Батарейки AA|4 шт.",
    "Удлинитель|3 розетки, 5 м", "Наушники беспроводные|", "Чайник электрический|1,7 л", "Утюг|2200 Вт",
    "Набор отвёрток|6 шт.", "Дрель-шуруповёрт|аккумуляторная", "Рулетка|5 м", "Перчатки рабочие|х/б",
)  # fmt: skip
_RU_BRANDS = (
    "Зорька", "Северная долина", "Зелёный луг", "Домовёнок", "Хозяюшка", "Лесная сказка", "Уют", "Золотой колос",
    "Волжские просторы", "Сибирский край", "Уральские мастера", "ТехноЛайн", "ЭнергоПлюс", "Мастерок", "Скиф",
    "Ладога", "Приокское", "Кубанский фермер", "Алтайские травы", "Белый медведь", "Семейный стол",
    "Вкусное утро", "Чистодом", "Светлячок", "Арктика", "Байкал", "Добрыня", "Бархат", "Калинка", "Северянка",
    "Первый выбор", "Городской", "Деревенское", "Лукоморье", "Тайга", "Солнечный", "Родные просторы",
)  # fmt: skip
# (bases, price median RUB, price sigma, kind) kind: 0 piece, 1 weight, 2 clothes, 3 shoes
_RU_GROUPS = (
    (_RU_PACKAGED, 130.0, 0.55, 0),
    (_RU_WEIGHT, 320.0, 0.7, 1),
    (_RU_HOUSEHOLD, 260.0, 0.5, 0),
    (_RU_CLOTHES, 1900.0, 0.5, 2),
    (_RU_SHOES, 3500.0, 0.45, 3),
    (_RU_TECH, 900.0, 1.0, 0),
)
_RU_CLOTHES_SIZES = ("44", "46", "48", "50", "52", "54", "56")
_RU_SHOE_SIZES = ("36", "37", "38", "39", "40", "41", "42", "43", "44", "45")
_RU_COLOURS = ("чёрный", "белый", "синий", "серый", "красный", "зелёный", "бежевый")
_RU_N_PRODUCTS = 1800

_RU_CITIES: tuple[tuple[str, str, int, float], ...] = (
    # city, postcode prefix, home site, weight
    ("г. Москва", "1", 1, 30.0),
    ("г. Санкт-Петербург", "19", 2, 12.0),
    ("г. Новосибирск", "630", 3, 4.0),
    ("г. Екатеринбург", "620", 4, 4.0),
    ("г. Казань", "420", 5, 3.5),
    ("г. Нижний Новгород", "603", 5, 3.0),
    ("г. Челябинск", "454", 4, 2.5),
    ("г. Самара", "443", 5, 2.5),
    ("г. Омск", "644", 3, 2.0),
    ("г. Ростов-на-Дону", "344", 6, 2.5),
    ("г. Уфа", "450", 4, 2.0),
    ("г. Красноярск", "660", 3, 2.0),
    ("г. Воронеж", "394", 6, 2.0),
    ("г. Пермь", "614", 4, 2.0),
    ("г. Волгоград", "400", 6, 1.8),
    ("г. Краснодар", "350", 6, 2.2),
    ("г. Тюмень", "625", 4, 1.5),
    ("г. Ярославль", "150", 1, 1.2),
    ("г. Тверь", "170", 1, 1.0),
    ("г. Калининград", "236", 2, 1.0),
    ("Московская обл., г. Химки", "141", 1, 2.0),
    ("Московская обл., г. Подольск", "142", 1, 1.5),
    ("Ленинградская обл., г. Всеволожск", "188", 2, 0.8),
)
_RU_STREETS = (
    "ул. Ленина", "ул. Советская", "ул. Мира", "ул. Садовая", "ул. Лесная", "ул. Школьная", "ул. Гагарина",
    "ул. Молодёжная", "ул. Центральная", "пр-т Победы", "ул. Пушкина", "ул. Кирова", "ул. Октябрьская",
    "ул. Заводская", "ул. Набережная", "пер. Почтовый", "ш. Энтузиастов", "ул. Строителей", "ул. Новая",
    "пр-т Ленинский", "ул. Маяковского", "б-р Гоголевский", "ул. Чкалова", "ул. Комсомольская",
)  # fmt: skip
_RU_COMPANY_ROOTS = (
    "Альфа", "Вектор", "Север", "Восток", "Гранит", "Меридиан", "Спектр", "Орион", "Стройинвест", "Техносфера",
    "Агроторг", "Промресурс", "Волга", "Урал", "Сибирь", "Балтика", "Лидер", "Прогресс", "Феникс", "Атлант",
    "Магистраль", "Импульс", "Континент", "Престиж", "Горизонт", "Кристалл", "Омега", "Парус", "Рассвет",
    "Стандарт", "Фортуна", "Эталон", "Янтарь", "Зенит", "Пульс", "Радуга", "Меркурий", "Ника", "Титан", "Вега",
    "Авангард", "Бастион", "Гефест", "Дельта", "Исток", "Каскад", "Лотос", "Монолит", "Новатор", "Оптима",
    "Полюс", "Ресурс", "Сфера", "Тандем", "Форвард", "Квант", "Элемент", "Азимут", "Вертикаль", "Гарант",
)  # fmt: skip
_RU_COMPANY_SUFFIX = (
    "", "-Трейд", "-Сервис", "-Снаб", "-М", "-Опт", " Плюс", "-Групп", "-Логистик", "-Строй", "-Юг", "-Центр",
    "-Пром", "-Маркет",
)  # fmt: skip
_RU_COMPANY_PREFIX = ("", "", "", "Гранд", "Евро", "Нео", "Мега", "Про", "Интер", "Техно")
_RU_BRANCH_CITIES = ("Казань", "Самара", "Тула", "Пермь", "Уфа", "Омск", "Тверь")
_RETAIL_BUYER = "Розничный покупатель"
_RETAIL_CONTRACTOR = "Частное лицо"
_RU_SITES = 6


def _onec_catalogue(rng: np.random.Generator, d: str) -> tuple[_Catalogue, list[str], list[str], Array]:
    """Catalogue plus the quoted product name per product, the quoted feature texts and each product's
    offset into them."""
    entries: list[tuple[str, str, int, float, float]] = []
    for bases, median, sigma, kind in _RU_GROUPS:
        for base in bases:
            head, tail = base.split("|")
            entries.append((head, tail, kind, median, sigma))
    combos = rng.choice(len(entries) * len(_RU_BRANDS), size=_RU_N_PRODUCTS, replace=False)
    quote_style = rng.random(_RU_N_PRODUCTS)
    u_price = rng.normal(0.0, 1.0, _RU_N_PRODUCTS)
    u_pack = rng.random(_RU_N_PRODUCTS)
    names: list[str] = []
    kinds = np.empty(_RU_N_PRODUCTS, dtype=np.int64)
    cents = np.empty(_RU_N_PRODUCTS, dtype=np.int64)
    pack = np.empty(_RU_N_PRODUCTS, dtype=np.int64)
    for j, combo in enumerate(combos.tolist()):
        head, tail, kind, median, sigma = entries[combo // len(_RU_BRANDS)]
        brand = _RU_BRANDS[combo % len(_RU_BRANDS)]
        branded = f'"{brand}"' if quote_style[j] < 0.3 else f"«{brand}»"
        names.append(f"{head} {branded} {tail}".strip() + (", кг" if kind == 1 else ""))
        rub = float(np.clip(median * math.exp(sigma * u_price[j]), 19.0, 60000.0))
        kop = round(rub * 10) * 10
        if kop >= 10000 and quote_style[j] > 0.6:
            kop -= 1  # ...,99 price endings
        kinds[j] = kind
        cents[j] = kop
        options = (1, 2, 6, 10, 12, 20) if kind == 0 and rub < 400 else (1, 1, 2, 4)
        pack[j] = options[int(u_pack[j] * len(options))]
    clothes_features = [f"Размер {s}, {c}" for s in _RU_CLOTHES_SIZES for c in _RU_COLOURS]
    shoe_features = [f"{s}, {c}" for s in _RU_SHOE_SIZES for c in _RU_COLOURS[:5]]
    features = [quote(f, d) for f in clothes_features + shoe_features]
    n_features = np.where(kinds == 2, len(clothes_features), np.where(kinds == 3, len(shoe_features), 0))
    feat_offset = np.where(kinds == 3, len(clothes_features), 0).astype(np.int64)
    catalogue = _Catalogue(
        cdf=_zipf_cdf(rng, _RU_N_PRODUCTS, offset=20.0, exponent=0.9),
        price_cents=cents,
        pack=np.where(kinds == 1, 1, pack),
        weight_goods=kinds == 1,
        n_features=n_features.astype(np.int64),
    )
    return catalogue, [quote(n, d) for n in names], features, feat_offset


def _person_names(u: Array) -> list[tuple[str, str, str]]:
    """(surname, first name, patronymic) per row of ``u`` (4 uniforms), with gender agreement."""
    female = (u[:, 0] < 0.5).tolist()
    surname = _draw_cdf(_weighted_cdf(np.array([w for _, w in names_ru.SURNAMES])), u[:, 1]).tolist()
    male_first = _draw_cdf(_weighted_cdf(np.array([w for _, w in names_ru.MALE_FIRST_NAMES])), u[:, 2]).tolist()
    female_first = _draw_cdf(_weighted_cdf(np.array([w for _, w in names_ru.FEMALE_FIRST_NAMES])), u[:, 2]).tolist()
    patronymic = _draw_cdf(_weighted_cdf(np.array([w for _, _, w in names_ru.PATRONYMICS])), u[:, 3]).tolist()
    out = []
    for fem, s, m, f, p in zip(female, surname, male_first, female_first, patronymic, strict=True):
        masculine = names_ru.SURNAMES[s][0]
        if fem:
            out.append(
                (
                    names_ru.feminine_surname(masculine),
                    names_ru.FEMALE_FIRST_NAMES[f][0],
                    names_ru.PATRONYMICS[p][1],
                )
            )
        else:
            out.append((masculine, names_ru.MALE_FIRST_NAMES[m][0], names_ru.PATRONYMICS[p][0]))
    return out


def _draw_cdf(cdf: Array, u: Array) -> Array:
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)


@dataclass(frozen=True)
class _OnecCustomers:
    party: list[str]  # pre-quoted "buyer<d>contractor"
    address: list[str]  # pre-quoted address
    home_site: Array
    weight: Array
    scale: Array


def _onec_customers(rng: np.random.Generator, n: int, d: str) -> _OnecCustomers:
    kind = _pick(rng, np.array([0.5, 0.2, 0.3]), n)  # company, sole trader, private person
    u = rng.random((n, 8))
    city = _pick(rng, np.array([w for *_, w in _RU_CITIES]), n)
    people = _person_names(u[:, :4])
    rows = u.tolist()
    kinds = kind.tolist()
    cities = city.tolist()
    buyers: list[str] = []
    contractors: list[str] = []
    addresses: list[str] = []
    taken: dict[str, int] = {}
    for i in range(n):
        row = rows[i]
        k = kinds[i]
        if k == 0:
            root = _RU_COMPANY_ROOTS[int(row[1] * len(_RU_COMPANY_ROOTS))]
            suffix = _RU_COMPANY_SUFFIX[int(row[2] * len(_RU_COMPANY_SUFFIX))]
            prefix = _RU_COMPANY_PREFIX[int(row[0] * len(_RU_COMPANY_PREFIX))]
            brand = (f"{prefix}{root.lower()}" if prefix else root) + suffix
            form = "АО" if row[3] < 0.1 else "ООО"
            legal = f'{form} "{brand}"'
            if row[4] < 0.15:
                buyer = f'ТД "{brand}"'
            elif row[4] < 0.25:
                buyer = f"{brand}; филиал {_RU_BRANCH_CITIES[int(row[5] * len(_RU_BRANCH_CITIES))]}"
            else:
                buyer = brand
        else:
            surname, first, patronymic = people[i]
            if k == 1:
                buyer = f"ИП {surname} {first[0]}.{patronymic[0]}."
                legal = f"ИП {surname} {first} {patronymic}"
            else:
                buyer = legal = f"{surname} {first} {patronymic}"
        count = taken.get(buyer, 0) + 1
        taken[buyer] = count
        if count > 1:  # 1C keeps duplicate names apart the same way
            buyer = f"{buyer} ({count})"
            legal = f"{legal} ({count})"
        buyers.append(buyer)
        contractors.append(legal)
        town, postcode, _, _ = _RU_CITIES[cities[i]]
        index = postcode + str(int(row[6] * 10**6)).zfill(6)[: 6 - len(postcode)]
        street = _RU_STREETS[int(row[7] * len(_RU_STREETS))]
        house = 1 + int(row[5] * 120)
        tail = f", кв. {1 + int(row[2] * 200)}" if k == 2 else (f", оф. {1 + int(row[3] * 40)}" if k == 0 else "")
        addresses.append(f"{index}, {town}, {street}, д. {house}{tail}")
    boost = np.where(kind == 0, 3.0, np.where(kind == 1, 1.5, 0.6))
    weight, scale = _customer_weights(rng, n, boost)
    return _OnecCustomers(
        party=[f"{quote(b, d)}{d}{quote(c, d)}" for b, c in zip(buyers, contractors, strict=True)],
        address=[quote(a, d) for a in addresses],
        home_site=np.array([_RU_CITIES[c][2] for c in city.tolist()], dtype=np.int64),
        weight=weight,
        scale=scale,
    )


def _onec_day_weights(rng: np.random.Generator, start: date, days: int) -> Array:
    def closed(d: date) -> float:
        if d.month == 1 and d.day <= 8:  # New Year holidays
            return 0.15
        if d.month == 12 and d.day >= 15:  # pre-New Year rush
            return 1.6
        return 1.0

    return _seasonal_day_weights(rng, start, days, (1.0, 1.05, 1.05, 1.1, 1.15, 0.6, 0.3), closed)


def _quantity_text(milli: Array) -> list[str]:
    """Thousandths of a unit as the shortest decimal-comma text: 3, 1,5, 0,75."""
    whole = (milli // 1000).tolist()
    frac = (milli % 1000).tolist()
    return [str(w) if f == 0 else f"{w},{f:03d}".rstrip("0") for w, f in zip(whole, frac, strict=True)]


def _write_onec(
    out: BinaryIO,
    rng: np.random.Generator,
    *,
    rows: int,
    customers: int,
    days: int,
    start: date,
    encoding: str,
    delimiter: str,
) -> tuple[int, int, int, int]:
    d = delimiter
    catalogue, product_text, feature_text, feat_offset = _onec_catalogue(rng, d)
    cust = _onec_customers(rng, customers, d)
    profile = _Profile(
        guest_share=0.08,
        day_weights=_onec_day_weights(rng, start, days),
        hour_weights=np.array([0.2, 0.7, 1.2, 1.6, 1.7, 1.5, 1.6, 1.7, 1.6, 1.3, 1.0, 0.6, 0.3]),
        whole_minutes=False,
    )
    engine = _Engine(
        rng, rows=rows, profile=profile, catalogue=catalogue, cust_weight=cust.weight, cust_scale=cust.scale
    )
    back = 8  # order dates may precede the first sale date
    day_text = [(start + timedelta(days=i - back)).strftime("%d.%m.%Y") for i in range(days + back)]
    minsec_text = [f"{s // 60:02d}:{s % 60:02d}" for s in range(3600)]
    retail_party = f"{quote(_RETAIL_BUYER, d)}{d}{quote(_RETAIL_CONTRACTOR, d)}"
    site_address = [
        quote(f"{_RU_CITIES[i][1].ljust(6, '0')}, {_RU_CITIES[i][0]}, {_RU_STREETS[i]}, д. {10 + i}", d)
        for i in range(_RU_SITES)
    ]
    # with a comma delimiter the decimal-comma numbers must be quoted
    nq = '"' if d == "," else ""
    product_b = _encoded([f"{t}{d}" for t in product_text], encoding)
    feature_b = _encoded([f"{t}{d}" for t in [*feature_text, ""]], encoding)
    cents_b = _encoded([f",{c:02d}{nq}{d}" for c in range(100)], encoding)
    no_feature = len(feature_text)
    order_no = 0
    written = n_inv = n_cancel = 0
    out.write((ONEC_HEADER.replace(";", d) + "\n").encode(encoding))
    for chunk in engine.chunks():
        n = len(chunk.sizes)
        lag = np.minimum(np.where(rng.random(n) < 0.6, 0, rng.geometric(0.5, n)), 5)
        u_order = rng.random(n)
        order_sec = np.where(
            lag == 0,
            OPEN_HOUR * 3600 + (u_order * (chunk.sec - OPEN_HOUR * 3600)).astype(np.int64),
            (8 + u_order * 12) * 3600,
        ).astype(np.int64)
        order_step = 1 + np.where(rng.random(n) < 0.08, rng.geometric(0.5, n), 0)
        orders = order_no + np.cumsum(order_step)
        order_no = int(orders[-1])
        at_home = (rng.random(n) < 0.85) & (chunk.cust >= 0)
        site = np.where(at_home, cust.home_site[np.maximum(chunk.cust, 0)], rng.integers(1, _RU_SITES + 1, n))
        heads = []
        tails = []
        for dd, ss, doc, on, lg, osec, c, st, cancel in zip(
            chunk.day.tolist(),
            chunk.sec.tolist(),
            chunk.doc_no.tolist(),
            orders.tolist(),
            lag.tolist(),
            order_sec.tolist(),
            chunk.cust.tolist(),
            site.tolist(),
            chunk.cancel.tolist(),
            strict=True,
        ):
            party = cust.party[c] if c >= 0 else retail_party
            address = cust.address[c] if c >= 0 else site_address[st - 1]
            heads.append(
                f"{day_text[dd + back]} {ss // 3600}:{minsec_text[ss % 3600]}{d}РН-{doc + 1:06d}{d}"
                f"{day_text[dd + back - lg]} {osec // 3600}:{minsec_text[osec % 3600]}{d}ЗК-{on:06d}{d}"
                f"{party}{d}{st}{d}"
            )
            tails.append(f"{address}{d}{'возврат' if cancel else 'продажа'}\n")
        li = chunk.line_inv
        feat_idx = np.where(catalogue.n_features[chunk.prod] > 0, feat_offset[chunk.prod] + chunk.feat, no_feature)
        qty_values, qty_index = np.unique(chunk.qty, return_inverse=True)
        qty_b = _encoded([f"{nq}{q}{nq}{d}" for q in _quantity_text(qty_values)], encoding)[qty_index]
        total = (chunk.qty * chunk.price + 500) // 1000
        whole_b = _ascii_pieces([f"{nq}{w}" for w in (total // 100).tolist()])
        out.write(
            _assemble(
                [
                    _encoded(heads, encoding)[li],
                    product_b[chunk.prod],
                    feature_b[feat_idx],
                    qty_b,
                    whole_b,
                    cents_b[total % 100],
                    _encoded(tails, encoding)[li],
                ]
            )
        )
        written += len(li)
        n_inv += n
        n_cancel += int(chunk.cancel.sum())
    return written, n_inv, int(engine.seen.sum()), n_cancel


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
    with _open_output(out_path) as out:
        if with_bom:
            out.write(codecs.BOM_UTF8)
        if onec:
            written, invoices, distinct, cancels = _write_onec(
                out, rng, rows=rows, customers=customers, days=days, start=start, encoding=enc, delimiter=delim
            )
        else:
            header = (UCI_HEADER if fmt == "uci" else UCI2_HEADER).replace(",", delim)
            written, invoices, distinct, cancels = _write_uci(
                out,
                rng,
                header=header,
                rows=rows,
                customers=customers,
                days=days,
                start=start,
                encoding=enc,
                delimiter=delim,
            )
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
