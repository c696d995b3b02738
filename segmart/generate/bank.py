"""Synthetic bank export: ``clients.csv`` and ``product_usage.csv``.

Clients are produced in fixed-size blocks, each with its own random stream
derived from (seed, block), so a block can be regenerated cheaply: a first pass
only sums every block's usage intensity, which lets the exact number of usage
rows be split over the blocks up front; the second pass regenerates the blocks
and writes them. Memory therefore stays flat and the output depends on the
arguments only.

Per client: gender-consistent full name, right-skewed income, a set of distinct
products whose size and mix grow with income (~5% of clients have none), and a
usage intensity per held product (cards are used far more often than deposits).
About 0.1% of the usage rows refer to client ids that are not in ``clients.csv``,
as real exports do.
"""

from __future__ import annotations

import csv
import logging
import math
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import NamedTuple

import numpy as np

from segmart.config import PROJECT_ROOT
from segmart.generate import names_ru
from segmart.generate.sampling import draw_cdf, weighted_cdf

log = logging.getLogger(__name__)


class BankProduct(NamedTuple):
    code: str
    name: str


# How each product behaves, keyed by the product code of seeds/bank_products.csv
# (the seed owns the codes and names): how likely a client holds it at the
# reference income, how that changes with income (elasticity), and how often a
# holder uses it. The order of this table fixes the order of the random draws.
_PRODUCT_BEHAVIOUR: dict[str, tuple[float, float, float]] = {
    "credit_card": (4.0, 0.3, 6.0),
    "debit_card": (14.0, 0.0, 10.0),
    "deposit_6m": (1.2, 0.4, 1.0),
    "deposit_12m": (1.5, 0.5, 1.0),
    "consumer_loan": (1.5, -0.4, 2.0),
    "mortgage": (0.35, 0.9, 2.0),
    "car_loan": (0.5, 0.5, 2.0),
    "life_insurance": (0.6, 0.3, 1.0),
    "property_insurance": (0.55, 0.6, 1.0),
    "investment_account": (0.25, 1.6, 2.5),
    "savings_account": (2.5, 0.5, 3.0),
}
PRODUCT_SEED = PROJECT_ROOT / "seeds" / "bank_products.csv"


def _catalogue() -> tuple[BankProduct, ...]:
    """The products of the seed, in the order of the behaviour table."""
    with PRODUCT_SEED.open(encoding="utf-8", newline="") as handle:
        names = {row["product_code"]: row["product_name"] for row in csv.DictReader(handle)}
    if set(names) != set(_PRODUCT_BEHAVIOUR):
        raise ValueError(
            f"{PRODUCT_SEED} and the bank generator disagree on the product codes: "
            f"only in the seed {sorted(set(names) - set(_PRODUCT_BEHAVIOUR))}, "
            f"only in the generator {sorted(set(_PRODUCT_BEHAVIOUR) - set(names))}"
        )
    return tuple(BankProduct(code, names[code]) for code in _PRODUCT_BEHAVIOUR)


BANK_PRODUCTS = _catalogue()

CLIENTS_HEADER = "client_id,full_name,income"
USAGE_HEADER = "usage_id,client_id,product_name,usage_date"
INCOME_MIN = 30_000
INCOME_MAX = 500_000

_HOLD_WEIGHT, _INCOME_ELASTICITY, _USE_RATE = (
    np.array(column) for column in zip(*_PRODUCT_BEHAVIOUR.values(), strict=True)
)
_REFERENCE_INCOME = 70_000.0
_N_PRODUCTS = len(BANK_PRODUCTS)

_BLOCK_CLIENTS = 1 << 16  # clients per block; fixed so that output depends on the arguments only
_BATCH_ROWS = 1 << 16  # usage rows formatted at once
_NO_USAGE_SHARE = 0.05
_ORPHAN_SHARE = 0.001

_STREAM_CLIENTS = 1
_STREAM_USAGE = 2
_STREAM_GLOBAL = 3

Array = np.ndarray


def _rng(seed: int, stream: int, block: int = 0) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(stream, block))))


_SURNAME_CDF = weighted_cdf([w for _, w in names_ru.SURNAMES])
_MALE_CDF = weighted_cdf([w for _, w in names_ru.MALE_FIRST_NAMES])
_FEMALE_CDF = weighted_cdf([w for _, w in names_ru.FEMALE_FIRST_NAMES])
_PATRONYMIC_CDF = weighted_cdf([w for _, _, w in names_ru.PATRONYMICS])
_HOLD_CDF = weighted_cdf(_HOLD_WEIGHT)


@dataclass
class _Block:
    first_id: int  # client_id of the block's first client
    female: Array
    surname: Array
    first_name: Array
    patronymic: Array
    income: Array
    pair_client: Array  # local client index per held (client, product) pair
    pair_product: Array
    pair_weight: Array  # usage intensity
    pair_start: Array  # first day the product can be used (day index)


def _block(seed: int, block: int, n: int, days: int) -> _Block:
    """All client-level draws of one block; identical every time it is called."""
    rng = _rng(seed, _STREAM_CLIENTS, block)
    female = rng.random(n) < 0.54
    surname = draw_cdf(_SURNAME_CDF, rng.random(n))
    u_first = rng.random(n)
    first_name = np.where(female, draw_cdf(_FEMALE_CDF, u_first), draw_cdf(_MALE_CDF, u_first))
    patronymic = draw_cdf(_PATRONYMIC_CDF, rng.random(n))
    income = np.clip(np.rint(rng.lognormal(math.log(72_000.0), 0.55, n)), INCOME_MIN, INCOME_MAX).astype(np.int64)

    # number of distinct products: grows with income, ~5% hold nothing
    position = np.clip(np.log(income / INCOME_MIN) / math.log(INCOME_MAX / INCOME_MIN), 0.0, 1.0)
    mean = 1.3 + 2.2 * position
    active = rng.random(n) >= _NO_USAGE_SHARE
    count = np.where(active, 1 + rng.poisson(mean - 1.0), 0)
    count = np.minimum(count, _N_PRODUCTS)

    # which products: successive weighted sampling without replacement (exponential keys)
    relative = (income / _REFERENCE_INCOME)[:, None]
    weights = _HOLD_WEIGHT[None, :] * relative ** _INCOME_ELASTICITY[None, :]
    keys = rng.exponential(size=(n, _N_PRODUCTS)) / weights
    rank = np.argsort(np.argsort(keys, axis=1), axis=1)
    pair_client, pair_product = np.nonzero(rank < count[:, None])

    activity = rng.lognormal(0.0, 0.8, n)
    n_pairs = len(pair_client)
    pair_weight = _USE_RATE[pair_product] * activity[pair_client]
    opened_before = rng.random(n_pairs) < 0.5
    pair_start = np.where(opened_before, 0, rng.integers(0, days, n_pairs))
    return _Block(
        first_id=block * _BLOCK_CLIENTS + 1,
        female=female,
        surname=surname,
        first_name=first_name,
        patronymic=patronymic,
        income=income,
        pair_client=pair_client.astype(np.int64),
        pair_product=pair_product.astype(np.int64),
        pair_weight=pair_weight,
        pair_start=pair_start.astype(np.int64),
    )


def _full_names(b: _Block) -> list[str]:
    surnames_m = [s for s, _ in names_ru.SURNAMES]
    surnames_f = [names_ru.feminine_surname(s) for s in surnames_m]
    male = [s for s, _ in names_ru.MALE_FIRST_NAMES]
    female = [s for s, _ in names_ru.FEMALE_FIRST_NAMES]
    patr_m = [m for m, _, _ in names_ru.PATRONYMICS]
    patr_f = [f for _, f, _ in names_ru.PATRONYMICS]
    return [
        f"{surnames_f[s]} {female[f]} {patr_f[p]}" if fem else f"{surnames_m[s]} {male[f]} {patr_m[p]}"
        for fem, s, f, p in zip(
            b.female.tolist(), b.surname.tolist(), b.first_name.tolist(), b.patronymic.tolist(), strict=True
        )
    ]


def _multinomial(rng: np.random.Generator, n: int, weights: Array) -> Array:
    total = float(weights.sum())
    if n == 0 or total <= 0:
        out = np.zeros(len(weights), dtype=np.int64)
        if n and len(out):
            out[0] = n
        return out
    return rng.multinomial(n, weights / total).astype(np.int64)


def generate_bank(
    out_dir: str | Path,
    *,
    clients: int,
    usages: int,
    seed: int,
    start_date: date = date(2023, 1, 1),
    days: int = 730,
) -> dict[str, int | str]:
    """Write ``clients.csv`` (``clients`` rows) and ``product_usage.csv`` (exactly ``usages`` rows) to ``out_dir``.

    Usage dates fall in ``[start_date, start_date + days)``. Returns counts:
    ``clients``, ``usages``, ``orphan_usages`` (rows whose client_id is not in
    clients.csv), ``clients_without_usage``, ``pairs`` (distinct client/product
    holdings) and ``bytes`` (both files together).
    """
    if clients < 1 or usages < 0 or days < 1:
        raise ValueError("clients and days must be >= 1, usages >= 0")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    n_blocks = (clients + _BLOCK_CLIENTS - 1) // _BLOCK_CLIENTS
    sizes = [min(_BLOCK_CLIENTS, clients - b * _BLOCK_CLIENTS) for b in range(n_blocks)]

    # pass 1: how many holdings and how much usage intensity each block has
    block_pairs = np.zeros(n_blocks, dtype=np.int64)
    block_weight = np.zeros(n_blocks, dtype=np.float64)
    for b, n in enumerate(sizes):
        blk = _block(seed, b, n, days)
        block_pairs[b] = len(blk.pair_client)
        block_weight[b] = blk.pair_weight.sum()
    total_pairs = int(block_pairs.sum())

    # exact split of the usage rows: orphans, then one row per holding if there are enough rows, rest by intensity
    g = _rng(seed, _STREAM_GLOBAL)
    orphans = round(usages * _ORPHAN_SHARE)
    if orphans == 0 and usages >= 50:
        orphans = 1
    if total_pairs == 0:
        orphans = usages
    normal = usages - orphans
    base_each = 1 if normal >= total_pairs else 0
    block_rows = block_pairs * base_each + _multinomial(g, normal - base_each * total_pairs, block_weight)
    block_orphans = _multinomial(g, orphans, block_rows.astype(np.float64) + (block_rows.sum() == 0))
    orphan_span = max(5, clients // 500)

    products = [p.name for p in BANK_PRODUCTS]
    day_text = [(start_date + timedelta(days=i)).isoformat() for i in range(days)]
    product_arr = np.array(products, dtype=object)
    day_arr = np.array(day_text, dtype=object)
    usage_id = 0
    without_usage = 0
    clients_path = out / "clients.csv"
    usage_path = out / "product_usage.csv"
    with open(clients_path, "wb") as fc, open(usage_path, "wb") as fu:
        fc.write((CLIENTS_HEADER + "\n").encode())
        fu.write((USAGE_HEADER + "\n").encode())
        for b, n in enumerate(sizes):
            blk = _block(seed, b, n, days)
            rng = _rng(seed, _STREAM_USAGE, b)
            names = _full_names(blk)
            fc.write(
                (
                    "\n".join(
                        f"{blk.first_id + i},{name},{inc}"
                        for i, (name, inc) in enumerate(zip(names, blk.income.tolist(), strict=True))
                    )
                    + "\n"
                ).encode()
            )

            counts = base_each + _multinomial(
                rng, int(block_rows[b]) - base_each * len(blk.pair_client), blk.pair_weight
            )
            if len(counts) == 0:
                counts = np.zeros(0, dtype=np.int64)
            used = np.zeros(n, dtype=bool)
            used[blk.pair_client[counts > 0]] = True
            without_usage += int(n - used.sum())
            cum = np.cumsum(counts)
            n_normal = int(block_rows[b])
            n_orphan = int(block_orphans[b])
            total = n_normal + n_orphan
            orphan_pos = np.sort(rng.choice(total, size=n_orphan, replace=False)) if n_orphan else np.zeros(0, np.int64)
            for lo in range(0, total, _BATCH_ROWS):
                hi = min(total, lo + _BATCH_ROWS)
                width = hi - lo
                a, z = np.searchsorted(orphan_pos, [lo, hi])
                is_orphan = np.zeros(width, dtype=bool)
                is_orphan[orphan_pos[a:z] - lo] = True
                client = np.empty(width, dtype=np.int64)
                product = np.empty(width, dtype=np.int64)
                day = np.empty(width, dtype=np.int64)

                # rows of real holdings, ordered by client then date within the batch
                k = width - (z - a)
                first_normal = lo - a
                pair = np.searchsorted(cum, np.arange(first_normal, first_normal + k), side="right")
                start = blk.pair_start[pair]
                when = start + (rng.random(k) * (days - start)).astype(np.int64)
                order = np.argsort(pair * days + when, kind="stable")
                pair, when = pair[order], when[order]
                keep = ~is_orphan
                client[keep] = blk.first_id + blk.pair_client[pair]
                product[keep] = blk.pair_product[pair]
                day[keep] = when

                m = z - a
                client[is_orphan] = clients + 1 + rng.integers(0, orphan_span, m)
                product[is_orphan] = draw_cdf(_HOLD_CDF, rng.random(m))
                day[is_orphan] = rng.integers(0, days, m)

                lines = [
                    f"{u},{c},{p},{d}"
                    for u, c, p, d in zip(
                        range(usage_id + 1, usage_id + width + 1),
                        client.tolist(),
                        product_arr[product].tolist(),
                        day_arr[day].tolist(),
                        strict=True,
                    )
                ]
                fu.write(("\n".join(lines) + "\n").encode())
                usage_id += width

    stats: dict[str, int | str] = {
        "out_dir": str(out),
        "clients": clients,
        "usages": usage_id,
        "orphan_usages": int(orphans),
        "clients_without_usage": without_usage,
        "pairs": total_pairs,
        "bytes": clients_path.stat().st_size + usage_path.stat().st_size,
    }
    log.debug("generated %s", stats)
    return stats
