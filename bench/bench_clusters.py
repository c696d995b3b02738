"""The k-means cluster marts on generated customers, against scikit-learn on the same features.

    python bench/bench_clusters.py [--customers 1000000] [--repeats 3] [--seed 1]

Generates ``--customers`` customers of one source (``uci``) with numpy
(seeded: three behaviour groups, from one-off buyers to frequent big
spenders, and a few whose returns cancel their purchases), writes them
straight into ``data_mart.customer_rfm`` (the input of the cluster models),
then measures in the same run and on the same machine:

* dbt: ``dbt run`` of the cluster models (int_customer_features_standardised,
  int_customer_clusters_initialised, customer_clusters, rfm_cluster_summary,
  rfm_cluster_elbow) — wall time of the command and the models' own
  execution times from run_results.json;
* scikit-learn: the same work in Python on the same customers: the features
  (log1p, z-scores), the documented initial centroids, ``KMeans`` (Lloyd,
  ``n_init=1``, ``tol=0``) for kmeans_k and every k of the elbow, the
  silhouette on the same sample size, and the per-cluster summary.

Each repeat: a first build (``--full-refresh``: cold start, the elbow on the
sample), then 1 % of the customers change (``--changed``) and the nightly run
goes twice, warm-started (``kmeans_warm_start: true``) and with the default
cold start; scikit-learn does the same work for each. dbt and scikit-learn
runs alternate. Prints medians over ``--repeats`` runs,
the ratio dbt / scikit-learn, and the within-cluster sum of squares both found
for every k. scikit-learn uses every core (OpenMP); PostgreSQL runs the
recursive query on one.
Uses its own database (``SEGMART_BENCH_CLUSTERS_DBNAME``, default
``segmart_bench_clusters``) and a temporary dbt target directory.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["SEGMART_PG_DBNAME"] = os.environ.get("SEGMART_BENCH_CLUSTERS_DBNAME", "segmart_bench_clusters")

from psycopg2 import sql  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.metrics import silhouette_score  # noqa: E402

from segmart import db  # noqa: E402

log = logging.getLogger("bench_clusters")

SCHEMAS = ("stg", "intermediate", "data_mart")
CLUSTER_MODELS = ["int_customer_features_standardised+"]
AS_OF_DATE = "2011-12-10"
SEGMENTS = ["Champions", "Loyal", "Potential Loyalist", "New", "Promising", "Need Attention", "About to Sleep",
            "At Risk", "Can't Lose", "Hibernating", "Lost"]  # fmt: skip


@dataclass
class Settings:
    k: int
    elbow_ks: list[int]
    max_iterations: int
    sample_size: int
    elbow_sample_size: int


def settings() -> Settings:
    values = yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]
    return Settings(
        k=int(values["kmeans_k"]),
        elbow_ks=list(range(int(values["kmeans_elbow_k_min"]), int(values["kmeans_elbow_k_max"]) + 1)),
        max_iterations=int(values["kmeans_max_iterations"]),
        sample_size=int(values["kmeans_silhouette_sample_size"]),
        elbow_sample_size=int(values["kmeans_elbow_sample_size"]),
    )


def generate(customers: int, seed: int) -> np.ndarray:
    """recency_days, frequency, monetary of each customer: three behaviour groups, 0.5% net returners."""
    rng = np.random.default_rng(seed)
    group = rng.choice(3, size=customers, p=[0.6, 0.3, 0.1])
    frequency = np.where(
        group == 0,
        rng.geometric(0.7, customers),
        np.where(group == 1, 2 + rng.poisson(4, customers), 10 + rng.poisson(20, customers)),
    )
    recency = np.where(
        group == 0,
        rng.integers(1, 700, customers),
        np.where(group == 1, 1 + rng.exponential(60, customers), 1 + rng.exponential(15, customers)).astype(int),
    )
    order_value = rng.lognormal(np.log(np.choose(group, [250.0, 350.0, 700.0])), 0.8)
    monetary = np.round(order_value * frequency, 2)
    returners = rng.random(customers) < 0.005
    monetary[returners] = -np.round(rng.lognormal(np.log(50.0), 1.0, returners.sum()), 2) * (
        rng.random(returners.sum()) < 0.8
    )
    return np.column_stack([np.minimum(recency, 700), frequency, monetary])


def reset(pg) -> None:
    with pg.cursor() as cur:
        for schema in SCHEMAS:
            cur.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema)))
        cur.execute("create schema data_mart")
        cur.execute(
            """
            create table data_mart.customer_rfm (
                source_system text, customer_id text, currency_code text, as_of_date date,
                first_purchase_date date, last_purchase_date date, recency_days integer, frequency integer,
                monetary numeric, return_count integer, return_amount numeric, r_score integer, f_score integer,
                m_score integer, rfm_score text, rfm_segment text
            )
            """
        )
    pg.commit()


def write_customers(pg, rfm: np.ndarray, seed: int) -> None:
    rng = np.random.default_rng(seed + 1)
    segments = rng.choice(len(SEGMENTS), size=len(rfm))
    buffer = io.StringIO()
    for i, (recency, frequency, monetary) in enumerate(rfm):
        buffer.write(
            f"uci\tC{i:07d}\tGBP\t{AS_OF_DATE}\t{int(recency)}\t{int(frequency)}\t{monetary:.2f}\t"
            f"{SEGMENTS[segments[i]]}\n"
        )
    buffer.seek(0)
    with pg.cursor() as cur:
        cur.copy_expert(
            "copy data_mart.customer_rfm (source_system, customer_id, currency_code, as_of_date, recency_days, "
            "frequency, monetary, rfm_segment) from stdin",
            buffer,
        )
        cur.execute(
            "update data_mart.customer_rfm set last_purchase_date = as_of_date - recency_days, "
            "first_purchase_date = as_of_date - recency_days"
        )
        cur.execute("analyze data_mart.customer_rfm")
    pg.commit()


def write_fresh(pg, rfm: np.ndarray, seed: int) -> None:
    reset(pg)
    write_customers(pg, rfm, seed)
    log.info("%d generated customers in data_mart.customer_rfm", len(rfm))


def dbt(scratch: Path, *args: str) -> float:
    env = dict(os.environ)
    env["DBT_TARGET_PATH"] = str(scratch / "target")
    env["DBT_LOG_PATH"] = str(scratch / "logs")
    env["DBT_PROFILES_DIR"] = str(ROOT)
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    command = [
        str(Path(sys.executable).with_name("dbt")),
        *args,
        "--project-dir",
        str(ROOT),
        "--profiles-dir",
        str(ROOT),
    ]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}")
    return elapsed


def model_times(scratch: Path) -> dict[str, float]:
    results = json.loads((scratch / "target" / "run_results.json").read_text())["results"]
    return {result["unique_id"].split(".")[-1]: result["execution_time"] for result in results}


def initial_centroids(ids: np.ndarray, x: np.ndarray, k: int) -> np.ndarray:
    """The documented rule: value score f + m - r, highest first, ties by customer_id; k_eff equal groups."""
    order = np.lexsort((ids, -(x[:, 1] + x[:, 2] - x[:, 0])))
    k_eff = min(k, len(x))
    groups = np.empty(len(x), dtype=int)
    groups[order] = np.arange(len(x)) * k_eff // len(x)
    return np.array([x[groups == g].mean(axis=0) for g in range(k_eff)])


def features(rfm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    logged = np.log1p(np.column_stack([rfm[:, 0], rfm[:, 1], np.maximum(rfm[:, 2], 0.0)]))
    return logged, (logged - logged.mean(axis=0)) / logged.std(axis=0)


def lloyd(x: np.ndarray, init: np.ndarray, config: Settings) -> KMeans:
    return KMeans(
        n_clusters=len(init), init=init, n_init=1, max_iter=config.max_iterations, tol=0.0, algorithm="lloyd"
    ).fit(x)


def summarise(rfm: np.ndarray, logged: np.ndarray, labels: np.ndarray, k: int) -> None:
    for cluster in range(k):
        members = labels == cluster
        rfm[members].mean(axis=0), rfm[members, 2].sum(), np.expm1(logged[members].mean(axis=0))


def elbow_sample(ids: np.ndarray, size: int) -> np.ndarray:
    """The customers the elbow runs on: the lowest md5(customer_id), as the model picks them."""
    digests = np.array([hashlib.md5(i.encode()).hexdigest() for i in ids])
    return np.sort(np.lexsort((ids, digests))[:size])


def sklearn_full(ids: np.ndarray, rfm: np.ndarray, config: Settings, sample: np.ndarray) -> tuple[dict, np.ndarray]:
    """A first build's cluster work: kmeans_k on every customer, the elbow on the sample."""
    logged, x = features(rfm)
    model = lloyd(x, initial_centroids(ids, x, config.k), config)
    summarise(rfm, logged, model.labels_, config.k)
    xs, inertias = x[sample], {}
    silhouette = np.arange(min(config.sample_size, len(xs)))
    for k in config.elbow_ks:
        run = lloyd(xs, initial_centroids(ids[sample], xs, k), config)
        inertias[k] = run.inertia_
        silhouette_score(xs[silhouette], run.labels_[silhouette])
    return inertias, model.labels_


def sklearn_warm(rfm: np.ndarray, previous: np.ndarray, config: Settings) -> int:
    """A nightly refresh: kmeans_k on every customer from the means of yesterday's clusters."""
    logged, x = features(rfm)
    init = np.array([x[previous == j].mean(axis=0) for j in range(config.k)])
    model = lloyd(x, init, config)
    summarise(rfm, logged, model.labels_, config.k)
    return int(model.n_iter_)


def change_customers(pg, rfm: np.ndarray, share: float, seed: int) -> np.ndarray:
    """A day later: ``share`` of the customers bought again (recency 1, one order more)."""
    rng = np.random.default_rng(seed)
    changed = np.sort(rng.choice(len(rfm), size=int(len(rfm) * share), replace=False))
    rfm = rfm.copy()
    rfm[changed, 0] = 1
    rfm[changed, 1] += 1
    rfm[changed, 2] += 300
    with pg.cursor() as cur:
        cur.execute(
            "update data_mart.customer_rfm set recency_days = 1, frequency = frequency + 1, "
            "monetary = monetary + 300 where customer_id = any(%s)",
            ([f"C{i:07d}" for i in changed],),
        )
        cur.execute("analyze data_mart.customer_rfm")
    pg.commit()
    return rfm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--changed", type=float, default=0.01, help="share of customers changed for the nightly run")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    config = settings()

    rfm = generate(args.customers, args.seed)
    ids = np.array([f"C{i:07d}" for i in range(args.customers)])
    pg = db.connect(db.resolve())

    sample = elbow_sample(ids, config.elbow_sample_size)
    figures: dict[str, list[float]] = {
        key: []
        for key in (
            "full",
            "full_models",
            "sk_full",
            "warm",
            "warm_models",
            "sk_warm",
            "cold",
            "cold_models",
            "sk_cold",
        )
    }
    warm_steps: list[tuple[int, int]] = []
    cold_step_counts: list[tuple[int, int]] = []
    with tempfile.TemporaryDirectory(prefix="bench-clusters-") as scratch_dir:
        scratch = Path(scratch_dir)
        # dbt and scikit-learn alternate, so that both see the same machine load
        for repeat in range(args.repeats):
            current = rfm.copy()
            write_fresh(pg, current, args.seed)
            dbt(scratch, "seed", "--select", "rfm_cluster_labels")
            figures["full"].append(dbt(scratch, "run", "--full-refresh", "--select", *CLUSTER_MODELS))
            times = model_times(scratch)
            figures["full_models"].append(sum(times.values()))
            log.info("first build %d: %.1fs wall; %s", repeat + 1, figures["full"][-1],
                     ", ".join(f"{name} {seconds:.1f}s" for name, seconds in sorted(times.items())))  # fmt: skip
            started = time.perf_counter()
            inertias, labels = sklearn_full(ids, current.copy(), config, sample)
            figures["sk_full"].append(time.perf_counter() - started)
            with pg.cursor() as cur:
                cur.execute(
                    "select k, within_cluster_sum_of_squares, iterations, is_converged, elbow_k, customers "
                    "from data_mart.rfm_cluster_elbow order by k"
                )
                elbow = cur.fetchall()
            pg.commit()
            # the next night: 1 % of the customers changed
            current = change_customers(pg, current, args.changed, args.seed + repeat)
            figures["warm"].append(
                dbt(scratch, "run", "--select", *CLUSTER_MODELS, "--vars", "{kmeans_warm_start: true}")
            )
            times = model_times(scratch)
            figures["warm_models"].append(sum(times.values()))
            with pg.cursor() as cur:
                cur.execute("select max(iterations), bool_and(is_warm_started) from data_mart.customer_clusters")
                steps, warm = cur.fetchone()
            pg.commit()
            assert warm, "the nightly run did not warm-start"
            started = time.perf_counter()
            sk_steps = sklearn_warm(current.copy(), labels, config)
            figures["sk_warm"].append(time.perf_counter() - started)
            warm_steps.append((steps, sk_steps))
            # the same night with the default cold start (the elbow is still skipped)
            figures["cold"].append(dbt(scratch, "run", "--select", *CLUSTER_MODELS))
            figures["cold_models"].append(sum(model_times(scratch).values()))
            with pg.cursor() as cur:
                cur.execute("select max(iterations), bool_or(is_warm_started) from data_mart.customer_clusters")
                cold_steps, warm = cur.fetchone()
            pg.commit()
            assert not warm, "the default nightly run warm-started"
            started = time.perf_counter()
            logged, x = features(current.copy())
            cold_model = lloyd(x, initial_centroids(ids, x, config.k), config)
            summarise(current, logged, cold_model.labels_, config.k)
            figures["sk_cold"].append(time.perf_counter() - started)
            cold_step_counts.append((cold_steps, int(cold_model.n_iter_)))
            log.info("nightly refresh %d: %.1fs wall, %d Lloyd steps (scikit-learn %d); %s; load average %.1f",
                     repeat + 1, figures["warm"][-1], steps, sk_steps,
                     ", ".join(f"{name} {seconds:.1f}s" for name, seconds in sorted(times.items())),
                     os.getloadavg()[0])  # fmt: skip

    for k, wss, iterations, is_converged, _, customers in elbow:
        relative = abs(float(wss) - inertias[k]) / inertias[k]
        log.info(
            "elbow k=%d on %d customers: WSS dbt %.3f, scikit-learn %.3f (relative diff %.1e); %d Lloyd steps%s",
            k, customers, wss, inertias[k], relative, iterations, "" if is_converged else " (not converged)",
        )  # fmt: skip
    log.info("elbow k (knee rule): %s", elbow[0][4])
    m = {key: statistics.median(values) for key, values in figures.items()}
    log.info(
        "\n%d customers, elbow on %d, medians of %d runs (load average %s):\n"
        "  first build: dbt run %.1fs wall, models %.1fs; scikit-learn %.1fs; ratio models %.1fx, wall %.1fx\n"
        "  nightly refresh after %.0f%% changed: dbt run %.1fs wall, models %.1fs; scikit-learn %.1fs; "
        "ratio models %.1fx, wall %.1fx; Lloyd steps dbt / scikit-learn %s\n"
        "  nightly refresh, default (cold start): dbt run %.1fs wall, models %.1fs; scikit-learn %.1fs; "
        "ratio models %.1fx, wall %.1fx; Lloyd steps dbt / scikit-learn %s",
        args.customers, len(sample), args.repeats, os.getloadavg(),
        m["full"], m["full_models"], m["sk_full"], m["full_models"] / m["sk_full"], m["full"] / m["sk_full"],
        100 * args.changed, m["warm"], m["warm_models"], m["sk_warm"], m["warm_models"] / m["sk_warm"],
        m["warm"] / m["sk_warm"], warm_steps,
        m["cold"], m["cold_models"], m["sk_cold"], m["cold_models"] / m["sk_cold"], m["cold"] / m["sk_cold"],
        cold_step_counts,
    )  # fmt: skip
    pg.close()


if __name__ == "__main__":
    main()
