"""Weighted random draws shared by the sales and bank generators."""

from __future__ import annotations

import numpy as np

Array = np.ndarray


def weighted_cdf(weights: Array) -> Array:
    cdf = np.cumsum(np.asarray(weights, dtype=np.float64))
    cdf /= cdf[-1]
    return cdf


def draw_cdf(cdf: Array, u: Array) -> Array:
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)


def pick(rng: np.random.Generator, weights: Array, n: int) -> Array:
    return draw_cdf(weighted_cdf(weights), rng.random(n))


def zipf_cdf(rng: np.random.Generator, n: int, offset: float = 30.0, exponent: float = 0.95) -> Array:
    rank = rng.permutation(n)
    return weighted_cdf(1.0 / (rank + offset) ** exponent)
