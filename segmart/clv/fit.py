"""Maximum-likelihood fits of the BG/NBD purchase model and the Gamma-Gamma spend model.

BG/NBD (Fader, Hardie & Lee 2005): while alive, a customer buys at a Poisson rate
lambda ~ Gamma(r, alpha); after each purchase the customer drops out with probability
p ~ Beta(a, b). Gamma-Gamma (Fader & Hardie 2013): a customer's spend per repeat
purchase is Gamma(p, nu) with nu ~ Gamma(q, gamma) across customers.

Both log-likelihoods are written in log space (``gammaln``, ``betaln``,
``logaddexp``), summed over identical summaries with weights, and maximised over the
logarithms of the parameters (so they stay positive without bounds).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize
from scipy.special import betaln, gammaln

log = logging.getLogger("segmart.clv")

# A source needs at least this many repeat buyers (x > 0) for a fit, unless told otherwise.
MIN_REPEAT_BUYERS = 10

Array = NDArray[np.float64]


class ClvFitError(ValueError):
    """The data cannot support a fit (too few repeat buyers, bad input) or the optimiser failed."""


@dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    customers: int
    repeat_buyers: int


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    gamma: float
    log_likelihood: float
    customers: int  # the repeat buyers with a positive mean repeat spend the fit used


def _as_array(values: ArrayLike, name: str) -> Array:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ClvFitError(f"{name} must be one-dimensional, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ClvFitError(f"{name} holds {int(np.sum(~np.isfinite(array)))} missing or infinite values")
    return array


def check_summary(x: ArrayLike, t_x: ArrayLike, big_t: ArrayLike) -> tuple[Array, Array, Array]:
    """The calibration summary as float arrays, or a ClvFitError saying what is wrong with it."""
    xs, txs, ts = _as_array(x, "x"), _as_array(t_x, "t_x"), _as_array(big_t, "T")
    if not (len(xs) == len(txs) == len(ts)):
        raise ClvFitError(f"x, t_x and T differ in length ({len(xs)}, {len(txs)}, {len(ts)})")
    problems = {
        "x negative or not a whole number": (xs < 0) | (xs != np.floor(xs)),
        "t_x negative": txs < 0,
        "t_x after T": txs > ts,
        "T negative": ts < 0,
        "x > 0 with t_x = 0": (xs > 0) & (txs == 0),
    }
    for problem, bad in problems.items():
        if bad.any():
            first = int(np.argmax(bad))
            raise ClvFitError(
                f"calibration summary: {int(bad.sum())} customers with {problem} "
                f"(first at row {first}: x={xs[first]}, t_x={txs[first]}, T={ts[first]})"
            )
    return xs, txs, ts


def _compress(*columns: Array) -> tuple[list[Array], Array]:
    """Identical rows collapsed into one with a weight: the likelihood is a sum over customers."""
    stacked = np.column_stack(columns)
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return [np.ascontiguousarray(unique[:, i]) for i in range(unique.shape[1])], counts.astype(np.float64)


def bgnbd_log_likelihood(r: float, alpha: float, a: float, b: float, x: Array, t_x: Array, big_t: Array) -> Array:
    """Each customer's BG/NBD log-likelihood ln L(r, alpha, a, b | x, t_x, T)."""
    shared = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
    # L = A1 A2 (A3 + [x > 0] A4), A3 = (alpha + T)^-(r + x), A4 = a / (b + x - 1) (alpha + t_x)^-(r + x)
    log_a3 = -(r + x) * np.log(alpha + big_t)
    repeat = x > 0
    log_a4 = np.full_like(x, -np.inf)
    log_a4[repeat] = np.log(a) - np.log(b + x[repeat] - 1) - (r + x[repeat]) * np.log(alpha + t_x[repeat])
    return shared + np.logaddexp(log_a3, log_a4)


def gamma_gamma_log_likelihood(p: float, q: float, gamma: float, x: Array, m: Array) -> Array:
    """Each repeat buyer's Gamma-Gamma log-likelihood of its mean repeat spend m over x purchases."""
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(gamma)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(gamma + m * x)
    )


def _maximise(negative: object, start: Array, what: str) -> tuple[Array, float]:
    """Minimise a negative log-likelihood over log-parameters: L-BFGS-B, then Nelder-Mead to polish."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        first = optimize.minimize(negative, start, method="L-BFGS-B", options={"maxiter": 2000, "ftol": 1e-15})
        polished = optimize.minimize(
            negative,
            first.x,
            method="Nelder-Mead",
            options={"maxiter": 4000, "xatol": 1e-9, "fatol": 1e-12},
        )
    best = polished if polished.fun <= first.fun else first
    if not np.isfinite(best.fun) or not np.all(np.isfinite(best.x)):
        raise ClvFitError(f"{what}: the optimiser found no finite maximum of the likelihood ({best.message})")
    if np.any(np.abs(best.x) > 25):  # a parameter ran off to 0 or infinity: the data do not identify it
        raise ClvFitError(
            f"{what}: a parameter ran off to a boundary ({dict(zip('abcd', np.exp(best.x), strict=False))}); "
            "the data do not identify the model"
        )
    return np.exp(best.x), -float(best.fun)


def fit_bgnbd(
    x: ArrayLike,
    t_x: ArrayLike,
    big_t: ArrayLike,
    *,
    min_repeat_buyers: int = MIN_REPEAT_BUYERS,
    start: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0),
) -> BgNbdParams:
    """BG/NBD parameters by maximum likelihood; t_x and T in one time unit (alpha is in it too)."""
    xs, txs, ts = check_summary(x, t_x, big_t)
    repeat_buyers = int(np.sum(xs > 0))
    if repeat_buyers < min_repeat_buyers:
        raise ClvFitError(
            f"BG/NBD needs at least {min_repeat_buyers} repeat buyers (customers with a second purchase); "
            f"this data has {repeat_buyers} of {len(xs)} customers"
        )
    (ux, utx, ut), weights = _compress(xs, txs, ts)
    scale = float(np.mean(ts))  # start alpha at the mean age: the optimiser sees numbers near 1
    initial = np.log([start[0], start[1] * scale, start[2], start[3]])
    total = float(weights.sum())
    # the gamma and beta functions depend on x alone: evaluated once per distinct x in each call
    distinct_x, x_index = np.unique(ux, return_inverse=True)
    repeat = ux > 0
    xr = ux[repeat]

    def negative(log_params: Array) -> float:
        r, alpha, a, b = np.exp(log_params)
        per_x = gammaln(r + distinct_x) + betaln(a, b + distinct_x)
        log_t = np.log(alpha + ut)
        log_a3 = -(r + ux) * log_t
        log_a4 = np.full_like(ux, -np.inf)
        log_a4[repeat] = np.log(a) - np.log(b + xr - 1) - (r + xr) * np.log(alpha + utx[repeat])
        ll = per_x[x_index] + np.logaddexp(log_a3, log_a4)
        # (w * ll).sum(), not np.dot: a BLAS call spins up threads and was 40x slower on a busy machine
        value = -(float((weights * ll).sum()) / total + r * np.log(alpha) - gammaln(r) - betaln(a, b))
        return value if np.isfinite(value) else np.inf

    (r, alpha, a, b), mean_ll = _maximise(negative, initial, "BG/NBD")
    return BgNbdParams(
        r=float(r),
        alpha=float(alpha),
        a=float(a),
        b=float(b),
        log_likelihood=mean_ll * total,
        customers=len(xs),
        repeat_buyers=repeat_buyers,
    )


def spend_fit_mask(x: ArrayLike, mean_spend: ArrayLike) -> NDArray[np.bool_]:
    """The customers the Gamma-Gamma fit uses: repeat buyers whose mean (net) repeat spend is positive.

    A mean repeat spend <= 0 (returns that cancel the repeat purchases) has no Gamma
    density; such customers are left out of the fit and scored with spend 0 (score.py).
    """
    xs = np.asarray(x, dtype=np.float64)
    ms = np.asarray(mean_spend, dtype=np.float64)
    return (xs > 0) & np.isfinite(ms) & (ms > 0)


def fit_gamma_gamma(
    x: ArrayLike,
    mean_spend: ArrayLike,
    *,
    min_repeat_buyers: int = MIN_REPEAT_BUYERS,
    start: tuple[float, float, float] = (1.0, 1.0, 1.0),
) -> GammaGammaParams:
    """Gamma-Gamma parameters by maximum likelihood on the repeat buyers with a positive mean spend."""
    xs, ms = _as_array(x, "x"), np.asarray(mean_spend, dtype=np.float64)
    if len(xs) != len(ms):
        raise ClvFitError(f"x and mean spend differ in length ({len(xs)}, {len(ms)})")
    used = spend_fit_mask(xs, ms)
    n = int(used.sum())
    if n < min_repeat_buyers:
        raise ClvFitError(
            f"Gamma-Gamma needs at least {min_repeat_buyers} repeat buyers with a positive mean repeat spend; "
            f"this data has {n}"
        )
    xu, mu = xs[used], ms[used]
    scale = float(np.mean(mu))
    initial = np.log([start[0], start[1], start[2] * scale])
    # gammaln over x only once per distinct x: the optimiser calls this a few hundred times
    distinct_x, x_index = np.unique(xu, return_inverse=True)
    log_x, log_m = np.log(xu), np.log(mu)

    def negative(log_params: Array) -> float:
        p, q, gamma = np.exp(log_params)
        px = p * distinct_x
        per_x = gammaln(px + q) - gammaln(px)
        ll = (
            per_x[x_index]
            - gammaln(q)
            + q * np.log(gamma)
            + (p * xu - 1) * log_m
            + p * xu * log_x
            - (p * xu + q) * np.log(gamma + mu * xu)
        )
        value = -float(np.sum(ll)) / n
        return value if np.isfinite(value) else np.inf

    (p, q, gamma), mean_ll = _maximise(negative, initial, "Gamma-Gamma")
    if q <= 1:
        raise ClvFitError(
            f"Gamma-Gamma: q = {q:.4g} <= 1, so the expected spend is infinite; the spend data do not suit the model"
        )
    return GammaGammaParams(p=float(p), q=float(q), gamma=float(gamma), log_likelihood=mean_ll * n, customers=n)
