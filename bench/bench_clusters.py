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

dbt and scikit-learn runs alternate. Prints medians over ``--repeats`` runs,
the ratio dbt / scikit-learn, and the within-cluster sum of squares both found
for every k. scikit-learn uses every core (OpenMP); PostgreSQL runs the
recursive query on one.
Uses its own database (``SEGMART_BENCH_CLUSTERS_DBNAME``, default
``segmart_bench_clusters``) and a temporary dbt target directory.
"""

from __future__ import annotations

import argparse
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


def settings() -> Settings:
    values = yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]
    return Settings(
        k=int(values["kmeans_k"]),
        elbow_ks=list(range(int(values["kmeans_elbow_k_min"]), int(values["kmeans_elbow_k_max"]) + 1)),
        max_iterations=int(values["kmeans_max_iterations"]),
        sample_size=int(values["kmeans_silhouette_sample_size"]),
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


def sklearn_pipeline(ids: np.ndarray, rfm: np.ndarray, config: Settings) -> dict[int, float]:
    """The cluster marts' work in numpy/scikit-learn; returns the inertia of every k."""
    logged = np.log1p(np.column_stack([rfm[:, 0], rfm[:, 1], np.maximum(rfm[:, 2], 0.0)]))
    x = (logged - logged.mean(axis=0)) / logged.std(axis=0)
    inertias = {}
    sample = np.random.default_rng(0).choice(len(x), size=min(config.sample_size, len(x)), replace=False)
    for k in sorted(set(config.elbow_ks) | {config.k}):
        model = KMeans(
            n_clusters=k, init=initial_centroids(ids, x, k), n_init=1, max_iter=config.max_iterations, tol=0.0,
            algorithm="lloyd",
        ).fit(x)  # fmt: skip
        inertias[k] = model.inertia_
        silhouette_score(x[sample], model.labels_[sample])
        if k == config.k:
            for cluster in range(k):
                members = model.labels_ == cluster
                rfm[members].mean(axis=0), rfm[members, 2].sum(), np.expm1(logged[members].mean(axis=0))
    # the elbow runs kmeans_k again in the dbt marts (customer_clusters and rfm_cluster_elbow are separate)
    if config.k in config.elbow_ks:
        KMeans(
            n_clusters=config.k, init=initial_centroids(ids, x, config.k), n_init=1, max_iter=config.max_iterations,
            tol=0.0, algorithm="lloyd",
        ).fit(x)  # fmt: skip
    return inertias


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    config = settings()

    rfm = generate(args.customers, args.seed)
    ids = np.array([f"C{i:07d}" for i in range(args.customers)])
    pg = db.connect(db.resolve())
    reset(pg)
    write_customers(pg, rfm, args.seed)
    log.info("%d generated customers in data_mart.customer_rfm", args.customers)

    with tempfile.TemporaryDirectory(prefix="bench-clusters-") as scratch_dir:
        scratch = Path(scratch_dir)
        dbt(scratch, "seed", "--select", "rfm_cluster_labels")
        dbt_walls, dbt_models, sklearn_times = [], [], []
        # dbt and scikit-learn alternate, so that both see the same machine load
        for repeat in range(args.repeats):
            wall = dbt(scratch, "run", "--select", *CLUSTER_MODELS)
            times = model_times(scratch)
            dbt_walls.append(wall)
            dbt_models.append(sum(times.values()))
            log.info(
                "dbt run %d: %.1fs wall; %s",
                repeat + 1,
                wall,
                ", ".join(f"{name} {seconds:.1f}s" for name, seconds in sorted(times.items())),
            )
            started = time.perf_counter()
            inertias = sklearn_pipeline(ids, rfm.copy(), config)
            sklearn_times.append(time.perf_counter() - started)
            log.info(
                "scikit-learn run %d: %.1fs (load average %.1f)", repeat + 1, sklearn_times[-1], os.getloadavg()[0]
            )
        with pg.cursor() as cur:
            cur.execute(
                "select k, within_cluster_sum_of_squares, iterations, is_converged, elbow_k "
                "from data_mart.rfm_cluster_elbow order by k"
            )
            elbow = cur.fetchall()
        pg.commit()

    for k, wss, iterations, is_converged, _ in elbow:
        relative = abs(float(wss) - inertias[k]) / inertias[k]
        log.info(
            "k=%d: WSS dbt %.3f, scikit-learn %.3f (relative diff %.1e); %d Lloyd steps%s",
            k, wss, inertias[k], relative, iterations, "" if is_converged else " (not converged)",
        )  # fmt: skip
    log.info("elbow k (knee rule): %s", elbow[0][4])
    dbt_wall, dbt_model, sk = (
        statistics.median(dbt_walls),
        statistics.median(dbt_models),
        statistics.median(sklearn_times),
    )
    log.info(
        "\n%d customers, medians of %d runs:\n  dbt run (wall, incl. dbt start-up): %.1fs\n"
        "  dbt models (execution time):        %.1fs\n  scikit-learn (same work):           %.1fs\n"
        "  ratio dbt models / scikit-learn:    %.1fx\n  ratio dbt wall / scikit-learn:      %.1fx\n  load average: %s",
        args.customers, args.repeats, dbt_wall, dbt_model, sk, dbt_model / sk, dbt_wall / sk, os.getloadavg(),
    )  # fmt: skip
    pg.close()


if __name__ == "__main__":
    main()
