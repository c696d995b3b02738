"""The UCI Online Retail layouts (I and II): catalogue, countries, postage lines and the writer."""

from __future__ import annotations

import logging
import math
from datetime import date, timedelta
from typing import BinaryIO

import numpy as np

from segmart.generate.sales.engine import (
    UCI_FIRST_CUSTOMER_ID,
    UCI_FIRST_INVOICE,
    Array,
    Catalogue,
    Chunk,
    Engine,
    FileSpec,
    LineHook,
    Profile,
    customer_weights,
    seasonal_day_weights,
)
from segmart.generate.sales.output import assemble, encoded, quote
from segmart.generate.sampling import pick, zipf_cdf

log = logging.getLogger(__name__)

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
    template = pick(rng, np.array([0.45, 0.2, 0.12, 0.07, 0.16]), n)
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


def _uci_catalogue(rng: np.random.Generator, delimiter: str) -> tuple[Catalogue, list[str], list[str], int]:
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
    cdf = zipf_cdf(rng, n)

    # specials get zero popularity: they are placed by the line hook only
    n_all = n + len(_UCI_SPECIAL)
    cdf_all = np.concatenate([cdf, np.ones(len(_UCI_SPECIAL))])
    cents_all = np.concatenate([cents, np.array([c for _, _, c in _UCI_SPECIAL], dtype=np.int64)])
    catalogue = Catalogue(
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

    weights = seasonal_day_weights(rng, start, days, (1.0, 1.1, 1.1, 1.3, 0.9, 0.0, 0.7), closed)
    if not weights.sum() > 0:  # a window that only covers closed days: open every weekday but Saturday
        weights = np.array([0.0 if (start + timedelta(days=i)).weekday() == 5 else 1.0 for i in range(days)])
    return weights


def _uci_hook(country_home: Array, special0: int) -> LineHook:
    post, dot, manual, carriage = (special0 + k for k in range(4))

    def hook(rng: np.random.Generator, chunk: Chunk) -> None:
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


def write_uci(out: BinaryIO, rng: np.random.Generator, spec: FileSpec, header: str) -> tuple[int, int, int, int]:
    rows, customers, days, start, encoding, d = spec
    catalogue, code_desc, price_text, special0 = _uci_catalogue(rng, d)
    country_names = [name for name, _ in _UCI_COUNTRIES]
    country_w = np.array([w for _, w in _UCI_COUNTRIES])
    cust_country = pick(rng, country_w, customers)
    if customers >= 4 * len(country_w):
        # every country has at least one customer, however small the customer base
        cust_country[rng.choice(customers, size=len(country_w) - 1, replace=False)] = np.arange(1, len(country_w))
    weight, scale = customer_weights(rng, customers)
    if UCI_FIRST_CUSTOMER_ID + customers > 100_000:
        log.warning("%d customers do not fit 5-digit CustomerIDs; the last ones get 6 digits", customers)
    cust_field = [
        f"{UCI_FIRST_CUSTOMER_ID + i}{d}{quote(country_names[c], d)}" for i, c in enumerate(cust_country.tolist())
    ]
    guest_w = country_w.copy()
    guest_w[0] *= 2.5
    guest_field = [f"{d}{quote(name, d)}" for name in country_names]
    profile = Profile(
        guest_share=0.25,
        day_weights=_uci_day_weights(rng, start, days),
        hour_weights=np.array([0.1, 0.6, 1.0, 1.6, 1.8, 2.2, 2.0, 1.7, 1.4, 0.8, 0.4, 0.2, 0.15]),
        whole_minutes=True,
    )
    engine = Engine(
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
    code_desc_b = encoded([f"{t}{d}" for t in code_desc], encoding)
    price_b = encoded([f"{t}{d}" for t in price_text], encoding)
    cust_b = encoded([f"{t}\n" for t in cust_field], encoding)
    guest_b = encoded([f"{t}\n" for t in guest_field], encoding)
    written = n_inv = n_cancel = 0
    out.write((header + "\n").encode(encoding))
    for chunk in engine.chunks():
        guest_country = pick(rng, guest_w, len(chunk.sizes))
        inv_no = (chunk.doc_no + UCI_FIRST_INVOICE).tolist()
        head = encoded(
            [f"C{n}{d}" if c else f"{n}{d}" for n, c in zip(inv_no, chunk.cancel.tolist(), strict=True)], encoding
        )
        stamp = encoded(
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
        qty_b = encoded([f"{q}{d}" for q in qty_values.tolist()], encoding)[qty_index]
        price = price_b[chunk.prod]
        odd = np.flatnonzero(chunk.price != catalogue.price_cents[chunk.prod])
        for j, c in zip(odd.tolist(), chunk.price[odd].tolist(), strict=True):
            price[j] = f"{_uci_price(c)}{d}".encode(encoding)
        out.write(assemble([head[li], code_desc_b[chunk.prod], qty_b, stamp[li], price, tail[li]]))
        written += len(li)
        n_inv += len(chunk.sizes)
        n_cancel += int(chunk.cancel.sum())
    return written, n_inv, int(engine.seen.sum()), n_cancel
