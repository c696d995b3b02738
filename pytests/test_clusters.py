"""The k-means cluster marts on the real UCI file agree with scikit-learn.

The real file is loaded and the cluster marts built once (``dbt build``, data
and unit tests included). The checks recompute from ``customer_rfm`` in numpy:

* the features (ln(1 + x), monetary <= 0 as 0, z-scores within the source);
* the initial centroids, from the documented rule (value-ordered groups);
* scikit-learn's ``KMeans`` (Lloyd, ``n_init=1``, ``tol=0``) started from the
  SQL's initial centroids: the same cluster for >= 99.9% of the customers and
  inertia within 0.01% for ``kmeans_k``; the within-cluster sum of squares of
  every k of the elbow equal to 6 significant digits, and the silhouette on
  the same deterministic sample; the elbow the knee rule picks.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psycopg2.extensions
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

from pytests.support.db import rows
from pytests.support.project import project_vars
from pytests.support.runs import land_real_file, run_dbt
from segmart.config import Connection

pytestmark = pytest.mark.slow

log = logging.getLogger(__name__)

SOURCE = "uci"
MIN_AGREEMENT = 0.999
MAX_INERTIA_RELATIVE_DIFF = 1e-4


VARS = project_vars()
K = int(VARS["kmeans_k"])
MAX_ITERATIONS = int(VARS["kmeans_max_iterations"])
ELBOW_KS = list(range(int(VARS["kmeans_elbow_k_min"]), int(VARS["kmeans_elbow_k_max"]) + 1))
SAMPLE_SIZE = int(VARS["kmeans_silhouette_sample_size"])


@dataclass
class Customers:
    ids: list[str]
    rfm: np.ndarray  # recency_days, frequency, monetary
    features: np.ndarray  # the SQL's recency_z, frequency_z, monetary_z


@dataclass
class Built:
    pg: psycopg2.extensions.connection
    customers: Customers


@pytest.fixture(scope="module")
def built(connection_info: Connection, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    pg = land_real_file(connection_info)
    dbt_dir: Path = tmp_path_factory.mktemp("clusters")
    run_dbt(
        "build",
        "--select",
        "@customer_clusters",
        "+rfm_cluster_elbow",
        "int_customer_clusters_initialised",
        "--indirect-selection",
        "cautious",
        tmp_target=dbt_dir,
    )
    data = rows(
        pg,
        """
        select f.customer_id, f.recency_days, f.frequency, f.monetary, f.recency_z, f.frequency_z, f.monetary_z
        from intermediate.int_customer_features_standardised as f
        where f.source_system = %s
        order by f.customer_id collate "C"
        """,
        (SOURCE,),
    )
    customers = Customers(
        ids=[row[0] for row in data],
        rfm=np.array([[float(value) for value in row[1:4]] for row in data]),
        features=np.array([row[4:7] for row in data], dtype=np.float64),
    )
    yield Built(pg, customers)
    pg.close()


def numpy_features(rfm: np.ndarray) -> np.ndarray:
    logged = np.log1p(np.column_stack([rfm[:, 0], rfm[:, 1], np.maximum(rfm[:, 2], 0.0)]))
    spread = logged.std(axis=0)
    z = (logged - logged.mean(axis=0)) / np.where(spread > 1e-9, spread, 1.0)
    z[:, spread <= 1e-9] = 0.0
    return z


def documented_initial_centroids(ids: list[str], x: np.ndarray, k: int) -> np.ndarray:
    """Value score f + m - r, highest first, ties by customer_id (byte order); k_eff equal groups."""
    value = x[:, 1] + x[:, 2] - x[:, 0]
    order = sorted(range(len(ids)), key=lambda i: (-value[i], ids[i].encode()))
    n = len(ids)
    k_eff = min(k, n)
    groups = np.empty(n, dtype=int)
    for rank, i in enumerate(order):
        groups[i] = rank * k_eff // n
    return np.array([x[groups == g].mean(axis=0) for g in range(k_eff)])


def sql_initial_centroids(pg: psycopg2.extensions.connection, k: int) -> np.ndarray:
    data = rows(
        pg,
        """
        select recency_z, frequency_z, monetary_z from intermediate.int_customer_clusters_initialised
        where source_system = %s and k = %s order by cluster_id
        """,
        (SOURCE, k),
    )
    return np.array(data, dtype=np.float64)


def sklearn_run(x: np.ndarray, init: np.ndarray) -> KMeans:
    return KMeans(n_clusters=len(init), init=init, n_init=1, max_iter=MAX_ITERATIONS, tol=0.0, algorithm="lloyd").fit(x)


def knee(ks: list[int], wss: list[float]) -> int | None:
    """The documented knee rule, independently: farthest below the first-to-last line, both axes in [0, 1]."""
    span = max(wss) - min(wss)
    if span == 0:
        return None
    best: tuple[float, int] | None = None
    for k, w in zip(ks, wss, strict=True):
        line = wss[0] + (wss[-1] - wss[0]) * (k - ks[0]) / (ks[-1] - ks[0])
        distance = (line - w) / span
        if distance > 0 and (best is None or distance > best[0]):
            best = (distance, k)
    return None if best is None else best[1]


def test_features_match_numpy(built: Built) -> None:
    customers = built.customers
    assert len(customers.ids) > 4000
    assert (customers.rfm[:, 2] <= 0).any(), "the real file has customers whose returns cancel their purchases"
    expected = numpy_features(customers.rfm)
    assert np.abs(customers.features - expected).max() < 1e-12


def test_initial_centroids_follow_the_documented_rule(built: Built) -> None:
    customers = built.customers
    for k in sorted(set(ELBOW_KS) | {K}):
        documented = documented_initial_centroids(customers.ids, customers.features, k)
        assert np.abs(sql_initial_centroids(built.pg, k) - documented).max() < 1e-12, k


def test_clusters_match_sklearn(built: Built) -> None:
    customers = built.customers
    model = sklearn_run(customers.features, sql_initial_centroids(built.pg, K))
    data = dict(
        (row[0], row[1:])
        for row in rows(
            built.pg,
            "select customer_id, cluster_id, distance_to_centroid, iterations, is_converged, k "
            "from data_mart.customer_clusters where source_system = %s",
            (SOURCE,),
        )
    )
    assert sorted(data) == sorted(customers.ids)
    sql_labels = np.array([data[i][0] for i in customers.ids])
    agreement = float(np.mean(sql_labels == model.labels_ + 1))
    sql_inertia = float(sum(float(data[i][1]) ** 2 for i in customers.ids))
    inertia_diff = abs(sql_inertia - model.inertia_) / model.inertia_
    iterations, is_converged, k = data[customers.ids[0]][2:]
    log.info(
        "k=%d: agreement %.4f%%, inertia SQL %.6f vs scikit-learn %.6f (relative diff %.2e), iterations %d vs %d",
        K,
        100 * agreement,
        sql_inertia,
        model.inertia_,
        inertia_diff,
        iterations,
        model.n_iter_,
    )
    assert k == K
    assert is_converged
    assert agreement >= MIN_AGREEMENT
    assert inertia_diff <= MAX_INERTIA_RELATIVE_DIFF


def test_summary_centroids_in_original_units(built: Built) -> None:
    customers = built.customers
    labels = dict(
        rows(
            built.pg,
            "select customer_id, cluster_id from data_mart.customer_clusters where source_system = %s",
            (SOURCE,),
        )
    )
    cluster = np.array([labels[i] for i in customers.ids])
    summary = rows(
        built.pg,
        "select cluster_id, customers, revenue, centroid_recency_days, centroid_frequency, centroid_monetary, "
        "cluster_label_en from data_mart.rfm_cluster_summary where source_system = %s order by cluster_id",
        (SOURCE,),
    )
    assert [row[0] for row in summary] == list(range(1, K + 1))
    rfm = customers.rfm
    for cluster_id, size, revenue, recency, frequency, monetary, label in summary:
        members = rfm[cluster == cluster_id]
        assert size == len(members)
        assert float(revenue) == pytest.approx(members[:, 2].sum(), abs=0.01)
        back = np.expm1(np.log1p(np.column_stack([members[:, 0], members[:, 1], np.maximum(members[:, 2], 0)])).mean(0))
        assert [float(recency), float(frequency), float(monetary)] == pytest.approx(list(back), abs=0.006)
        log.info(
            "cluster %d %-22s %5d customers, revenue %12.2f, centroid %.0f days, %.1f orders, %.0f money",
            cluster_id,
            label,
            size,
            revenue,
            recency,
            frequency,
            monetary,
        )


def test_elbow_matches_sklearn(built: Built) -> None:
    customers = built.customers
    elbow = {
        row[0]: row[1:]
        for row in rows(
            built.pg,
            "select k, within_cluster_sum_of_squares, silhouette, silhouette_sample_size, iterations, elbow_k "
            "from data_mart.rfm_cluster_elbow where source_system = %s order by k",
            (SOURCE,),
        )
    }
    assert sorted(elbow) == ELBOW_KS
    sample = sorted(
        range(len(customers.ids)),
        key=lambda i: (hashlib.md5(customers.ids[i].encode()).hexdigest(), customers.ids[i].encode()),
    )[:SAMPLE_SIZE]
    inertias = []
    for k in ELBOW_KS:
        wss, silhouette, sample_size, iterations, _ = elbow[k]
        model = sklearn_run(customers.features, sql_initial_centroids(built.pg, k))
        inertias.append(model.inertia_)
        expected_silhouette = silhouette_score(customers.features[sample], model.labels_[sample])
        log.info(
            "k=%d: WSS SQL %s vs scikit-learn %.9f (relative diff %.1e), silhouette %s vs %.6f, iterations %d vs %d",
            k,
            wss,
            model.inertia_,
            abs(float(wss) - model.inertia_) / model.inertia_,
            silhouette,
            expected_silhouette,
            iterations,
            model.n_iter_,
        )
        assert f"{float(wss):.6g}" == f"{model.inertia_:.6g}", k
        assert sample_size == min(SAMPLE_SIZE, len(customers.ids))
        assert float(silhouette) == pytest.approx(expected_silhouette, abs=1e-6), k
    expected_elbow = knee(ELBOW_KS, inertias)
    log.info("elbow: SQL k=%s, knee rule on scikit-learn's curve k=%s", elbow[ELBOW_KS[0]][4], expected_elbow)
    assert {row[4] for row in elbow.values()} == {expected_elbow}


def test_a_daily_build_warm_starts_from_the_previous_clusters_and_matches_sklearn(built: Built, tmp_path: Path) -> None:
    """Last in the module: it changes the features of 1 % of the customers and rebuilds."""
    customers = built.customers
    previous = dict(
        rows(
            built.pg,
            "select customer_id, cluster_id from data_mart.customer_clusters where source_system = %s",
            (SOURCE,),
        )
    )
    # 1 % of the customers changed since the last build: their features move
    changed = customers.ids[::100]
    with built.pg.cursor() as cur:
        cur.execute(
            "update intermediate.int_customer_features_standardised "
            "set recency_z = recency_z + 0.7, frequency_z = frequency_z - 0.4 "
            "where source_system = %s and customer_id = any(%s)",
            (SOURCE, changed),
        )
    built.pg.commit()
    run_dbt("run", "--select", "customer_clusters", "--vars", "{kmeans_warm_start: true}", tmp_target=tmp_path)
    x = np.array(
        rows(
            built.pg,
            "select recency_z, frequency_z, monetary_z from intermediate.int_customer_features_standardised "
            'where source_system = %s order by customer_id collate "C"',
            (SOURCE,),
        ),
        dtype=np.float64,
    )
    labels_before = np.array([previous[i] for i in customers.ids])
    warm_init = np.array([x[labels_before == j].mean(axis=0) for j in range(1, K + 1)])
    model = sklearn_run(x, warm_init)
    data = dict(
        (row[0], row[1:])
        for row in rows(
            built.pg,
            "select customer_id, cluster_id, iterations, is_warm_started from data_mart.customer_clusters "
            "where source_system = %s",
            (SOURCE,),
        )
    )
    sql_labels = np.array([data[i][0] for i in customers.ids])
    iterations = data[customers.ids[0]][1]
    log.info("warm start after 1 %% changed: %d Lloyd steps (scikit-learn %d)", iterations, model.n_iter_)
    assert all(row[2] for row in data.values())
    assert float(np.mean(sql_labels == model.labels_ + 1)) >= MIN_AGREEMENT
    # a full refresh starts cold again, even with the var
    run_dbt(
        "run", "--select", "customer_clusters", "--full-refresh", "--vars", "{kmeans_warm_start: true}",
        tmp_target=tmp_path,
    )  # fmt: skip
    assert rows(built.pg, "select distinct is_warm_started from data_mart.customer_clusters") == [(False,)]
