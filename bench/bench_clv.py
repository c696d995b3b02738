"""CLV fit and scoring at scale: segmart/clv against a plain numpy/scipy implementation, same run.

    python bench/bench_clv.py                      # 1,000,000 customers, 3 runs of each step
    python bench/bench_clv.py --customers N --runs R

The calibration summary is drawn from the BG/NBD and Gamma-Gamma processes
themselves (numpy, seeded; parameters near the real UCI fit, in days, 373 days of
history), so the fits have a known truth. Steps, each timed on the same arrays:

  fit       segmart.clv.fit: BG/NBD + Gamma-Gamma (identical summaries collapsed
            with weights, gammaln per distinct x, L-BFGS-B then Nelder-Mead)
  score     segmart.clv.score.score_customers: P(alive), E[Y] at 30/90/365 days, E[spend],
            12-month CLV (purchase terms once per distinct (x, t_x, T))
  baseline  the textbook route in numpy/scipy: the per-customer log-likelihood over
            every row, Nelder-Mead on the log-parameters (what lifetimes does), and the
            printed conditional expectation with scipy's hyp2f1 for the same scores

Printed: the median seconds of --runs runs of each, the ratios against the baseline,
and the fitted parameters beside the true ones. No database: the step's own I/O is
COPY in and out (see docs/clv.md), which the build's log times separately.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from scipy import optimize
from scipy.special import betaln, gammaln, hyp2f1

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from segmart.clv.fit import BgNbdParams, fit_bgnbd, fit_gamma_gamma  # noqa: E402
from segmart.clv.score import score_customers  # noqa: E402

log = logging.getLogger("bench")

TRUE_BGNBD = {"r": 0.8, "alpha": 60.0, "a": 0.3, "b": 2.0}
TRUE_GG = {"p": 2.0, "q": 4.0, "gamma": 300.0}
HISTORY_DAYS = 373


def simulate(customers: int, seed: int = 21) -> dict[str, np.ndarray]:
    """x, t_x, T (whole days) and the mean repeat spend of customers drawn from both models."""
    rng = np.random.default_rng(seed)
    big_t = rng.integers(1, HISTORY_DAYS, customers).astype(np.float64)
    lam = rng.gamma(TRUE_BGNBD["r"], 1 / TRUE_BGNBD["alpha"], customers)
    drop = rng.beta(TRUE_BGNBD["a"], TRUE_BGNBD["b"], customers)
    x = np.zeros(customers)
    t_x = np.zeros(customers)
    now = np.zeros(customers)
    active = np.ones(customers, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        now[idx] += rng.exponential(1 / lam[idx])
        bought = idx[now[idx] < big_t[idx]]
        active[idx[now[idx] >= big_t[idx]]] = False
        x[bought] += 1
        t_x[bought] = now[bought]
        active[bought[rng.random(len(bought)) < drop[bought]]] = False
    t_x = np.minimum(np.ceil(t_x), big_t) * (x > 0)  # whole days, as the marts count them
    t_x[(x > 0) & (t_x == 0)] = 1
    nu = rng.gamma(TRUE_GG["q"], 1 / TRUE_GG["gamma"], customers)
    spend = np.where(x > 0, rng.gamma(TRUE_GG["p"] * np.maximum(x, 1), 1 / nu) / np.maximum(x, 1), 0.0)
    return {"x": x, "t_x": t_x, "T": big_t, "m": spend}


def segmart_fit(d: dict[str, np.ndarray]) -> tuple:
    return fit_bgnbd(d["x"], d["t_x"], d["T"]), fit_gamma_gamma(d["x"], d["m"])


def segmart_score(d: dict[str, np.ndarray], fits: tuple) -> np.ndarray:
    """What the CLV step computes per customer (segmart.clv.job calls the same function)."""
    bg, gg = fits
    columns = score_customers(
        bg, gg, d["x"], d["t_x"], d["T"], d["m"], horizons=(30, 90, 365), months=12, monthly_discount_rate=0.01
    )
    return columns["clv"]


def _direct_ll(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray) -> float:
    r, alpha, a, b = np.exp(params)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b)
    a3 = -(r + x) * np.log(alpha + big_t)
    a4 = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-12)) - (r + x) * np.log(alpha + t_x), -np.inf)
    return -float(np.sum(a1 + a2 + np.logaddexp(a3, a4)))


def _direct_gg(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> float:
    p, q, gamma = np.exp(params)
    ll = (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(gamma)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(gamma + m * x)
    )
    return -float(np.sum(ll))


def _direct_expectation(bg: BgNbdParams, t: float, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray) -> np.ndarray:
    r, alpha, a, b = bg.r, bg.alpha, bg.a, bg.b
    hyper = hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + big_t + t))
    first = (a + b + x - 1) / (a - 1) * (1 - ((alpha + big_t) / (alpha + big_t + t)) ** (r + x) * hyper)
    return first / (1 + (x > 0) * a / (b + x - 1) * ((alpha + big_t) / (alpha + t_x)) ** (r + x))


def baseline(d: dict[str, np.ndarray]) -> tuple:
    """Fit and score the textbook way: every row in every likelihood call, Nelder-Mead, printed formulas."""
    x, t_x, big_t, m = d["x"], d["t_x"], d["T"], d["m"]
    with np.errstate(all="ignore"):
        fit = optimize.minimize(
            _direct_ll,
            np.log([1.0, np.mean(big_t), 1.0, 1.0]),
            args=(x, t_x, big_t),
            method="Nelder-Mead",
            options={"maxiter": 4000, "xatol": 1e-7, "fatol": 1e-7},
        )
        buyers = (x > 0) & (m > 0)
        spend_fit = optimize.minimize(
            _direct_gg,
            np.log([1.0, 1.0, np.mean(m[buyers])]),
            args=(x[buyers], m[buyers]),
            method="Nelder-Mead",
            options={"maxiter": 4000, "xatol": 1e-7, "fatol": 1e-7},
        )
    r, alpha, a, b = np.exp(fit.x)
    p, q, gamma = np.exp(spend_fit.x)
    bg = BgNbdParams(r, alpha, a, b, -fit.fun, len(x), int((x > 0).sum()))
    alive = 1 / (1 + (x > 0) * a / (b + x - 1) * ((alpha + big_t) / (alpha + t_x)) ** (r + x))
    for days in (30, 90, 365):
        _direct_expectation(bg, float(days), x, t_x, big_t)
    spend = p * (gamma + np.maximum(m, 0) * x) / (p * x + q - 1)
    value, before = np.zeros_like(x), np.zeros_like(x)
    for month in range(1, 13):
        upto = _direct_expectation(bg, month * 365.2425 / 12, x, t_x, big_t)
        value += (upto - before) * spend / 1.01**month
        before = upto
    return bg, (p, q, gamma), value + 0 * alive


def _timed(step, *args) -> tuple[float, object]:
    started = time.perf_counter()
    out = step(*args)
    return time.perf_counter() - started, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    started = time.perf_counter()
    data = simulate(args.customers)
    log.info(
        "%d customers simulated in %.1f s: %d repeat buyers, mean x %.2f",
        args.customers,
        time.perf_counter() - started,
        int((data["x"] > 0).sum()),
        float(data["x"].mean()),
    )
    fit_s, score_s, base_s = [], [], []
    for run in range(args.runs):
        seconds, fits = _timed(segmart_fit, data)
        fit_s.append(seconds)
        seconds, values = _timed(segmart_score, data, fits)
        score_s.append(seconds)
        seconds, (bg_base, _gg_base, base_values) = _timed(baseline, data)
        base_s.append(seconds)
        log.info("run %d: fit %.2f s, score %.2f s, baseline %.2f s", run + 1, fit_s[-1], score_s[-1], base_s[-1])
    bg, gg = fits
    fit_m, score_m, base_m = (statistics.median(v) for v in (fit_s, score_s, base_s))
    agreement = float(np.nanmax(np.abs(values - base_values) / np.maximum(np.abs(base_values), 1e-9)))
    log.info(
        "\nCLV at %d customers (median of %d runs):\n"
        "  segmart fit        %8.2f s\n"
        "  segmart score      %8.2f s\n"
        "  segmart total      %8.2f s\n"
        "  numpy/scipy total  %8.2f s   (fit + score the textbook way)\n"
        "  ratio baseline / segmart: %.1fx\n"
        "  fitted  r=%.4f alpha=%.3f a=%.4f b=%.4f  p=%.3f q=%.3f gamma=%.2f\n"
        "  true    r=%.4f alpha=%.3f a=%.4f b=%.4f  p=%.3f q=%.3f gamma=%.2f\n"
        "  baseline r=%.4f alpha=%.3f a=%.4f b=%.4f; CLV max relative difference %.2e",
        args.customers,
        args.runs,
        fit_m,
        score_m,
        fit_m + score_m,
        base_m,
        base_m / (fit_m + score_m),
        bg.r,
        bg.alpha,
        bg.a,
        bg.b,
        gg.p,
        gg.q,
        gg.gamma,
        *TRUE_BGNBD.values(),
        *TRUE_GG.values(),
        bg_base.r,
        bg_base.alpha,
        bg_base.a,
        bg_base.b,
        agreement,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
