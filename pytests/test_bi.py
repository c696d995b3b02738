"""The BI kit: connection files, read-only logins over TLS, network modes, contracts, self-describing marts."""

from __future__ import annotations

import copy
import datetime as dt
import json
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from pytests.support import ROOT
from pytests.support.db import reset_database, rows, scalar
from pytests.support.runs import run_cli, run_dbt
from pytests.test_project import cli, embedded_env, server_base  # noqa: F401  (server_base is a fixture)
from segmart.bi import contracts

# --- connection files ---------------------------------------------------------


def test_pbids_is_the_documented_shape_for_this_server(tmp_path: Path, connection_info) -> None:
    out = tmp_path / "segmart.pbids"
    run_cli("bi", "pbids", "--out", str(out))
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["version"] == "0.1"
    assert len(document["connections"]) == 1  # a .pbids file holds exactly one data source
    connection = document["connections"][0]
    assert connection["mode"] == "Import"
    assert connection["details"]["protocol"] == "postgresql"
    assert connection["details"]["address"] == {
        "server": f"{connection_info.host}:{connection_info.port}",
        "database": connection_info.dbname,
    }
    assert connection_info.password not in out.read_text()


def test_m_snippet_and_info_name_this_server(connection_info) -> None:
    server = f"{connection_info.host}:{connection_info.port}"
    m = run_cli("bi", "m", "--table", "monthly_kpis").stdout
    assert f'PostgreSQL.Database("{server}", "{connection_info.dbname}")' in m
    assert '[Schema = "data_mart", Item = "monthly_kpis"]' in m
    info = run_cli("bi", "info", "--user", "analyst").stdout
    assert f"postgresql://analyst@{server}/{connection_info.dbname}" in info
    for word in ("DataLens", "6432", "Metabase", "Superset", f"port      {connection_info.port}"):
        assert word in info
    assert connection_info.password not in info


# --- network access: an embedded server of its own, on loopback only -----------------


def _start(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = cli("db", "start", *args, env=env)
    assert result.returncode == 0, result.stderr
    return result


def _owner_password(env: dict[str, str]) -> str:
    return (Path(env["SEGMART_STATE_DIR"]) / "embedded.password").read_text().strip()


def _network(env: dict[str, str]) -> dict | None:
    path = Path(env["SEGMART_STATE_DIR"]) / "network.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _server_port(env: dict[str, str]) -> int:
    return int(cli("db", "url", env=env).stdout.strip().rsplit(":", 1)[1].split("/")[0])


def _connect(port: int, user: str, password: str, sslmode: str, **extra: str):
    return psycopg2.connect(
        host="127.0.0.1", port=port, dbname="segmart", user=user, password=password, sslmode=sslmode, **extra
    )


@pytest.fixture
def lan_server(server_base: Path) -> Iterator[dict[str, str]]:  # noqa: F811
    env = embedded_env(server_base)
    yield env
    cli("db", "stop", env=env)


def test_db_start_never_prints_the_owner_password_only_db_url_does(lan_server: dict[str, str]) -> None:
    started = _start(lan_server)
    owner = _owner_password(lan_server)
    assert owner not in started.stdout + started.stderr
    assert "db url" in started.stdout + started.stderr  # says where the password-bearing URL is
    status = cli("db", "status", env=lan_server)
    assert owner not in status.stdout + status.stderr
    assert f":{owner}@" in cli("db", "url", env=lan_server).stdout


def test_listen_requires_tls_keeps_the_owner_local_and_add_user_reads_data_mart_only(
    lan_server: dict[str, str],
) -> None:
    env = lan_server
    _start(env)
    assert _network(env) is None  # default: 127.0.0.1 only, nothing else listens
    owner = _owner_password(env)
    server_port = _server_port(env)
    with _connect(server_port, "segmart", owner, "disable") as pg, pg.cursor() as cur:
        cur.execute("create schema staging; create table staging.secret (x int); insert into staging.secret values (1)")
        cur.execute(
            "create schema data_mart; create table data_mart.kpis (x int); insert into data_mart.kpis values (7)"
        )
        cur.execute("create table public.other (x int)")
    pg.close()

    _start(env, "--listen", "127.0.0.1")
    network = _network(env)
    assert network is not None and network["cidr"] == "127.0.0.0/24"
    tls_port = network["port"]
    assert tls_port != server_port

    made = cli("bi", "add-user", "powerbi", env=env)
    assert made.returncode == 0, made.stderr
    password = next(line.split()[1] for line in made.stdout.splitlines() if line.startswith("password"))
    assert f"127.0.0.1:{tls_port}" in made.stdout  # tells the login where to connect
    # the password never reaches the server: only a SCRAM verifier is stored
    with _connect(server_port, "segmart", owner, "disable") as pg, pg.cursor() as cur:
        cur.execute("select rolpassword from pg_authid where rolname = 'powerbi'")
        assert cur.fetchone()[0].startswith("SCRAM-SHA-256$")
        # dbt's on-run-end grant, which a real build runs; here by hand for the scratch table
        cur.execute("grant usage on schema data_mart to bi_reader; grant select on data_mart.kpis to bi_reader")
    pg.close()

    bi = _connect(tls_port, "powerbi", password, "require")
    try:
        assert bi.info.ssl_in_use
        with bi.cursor() as cur:
            cur.execute("select x from kpis")  # search_path is data_mart
            assert cur.fetchall() == [(7,)]
            cur.execute(
                "select table_schema || '.' || table_name from information_schema.tables "
                "where table_schema not in ('pg_catalog', 'information_schema') "
                "and has_table_privilege(format('%I.%I', table_schema, table_name), 'select')"
            )
            assert cur.fetchall() == [("data_mart.kpis",)]
        bi.rollback()
        for statement in ("select * from staging.secret", "select * from public.other"):
            with pytest.raises(psycopg2.errors.InsufficientPrivilege), bi.cursor() as cur:
                cur.execute(statement)
            bi.rollback()
        with pytest.raises(psycopg2.errors.ReadOnlySqlTransaction), bi.cursor() as cur:
            cur.execute("create table data_mart.mine (x int)")
    finally:
        bi.close()

    with pytest.raises(psycopg2.OperationalError, match="SSL is required"):
        _connect(tls_port, "powerbi", password, "disable")
    with pytest.raises(psycopg2.OperationalError, match="own machine only"):
        _connect(tls_port, "segmart", owner, "require")
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        _connect(tls_port, "powerbi", "not-the-password", "require")
    # the self-signed certificate names the address, so clients can verify it fully
    cert = Path(env["SEGMART_STATE_DIR"]) / "tls" / "server.crt"
    _connect(tls_port, "powerbi", password, "verify-full", sslrootcert=str(cert)).close()
    info = cli("bi", "info", "--user", "powerbi", env=env).stdout
    assert f"postgresql://powerbi@127.0.0.1:{tls_port}/segmart?sslmode=require" in info

    # the setting survives a restart, and `--listen localhost` closes the network access again
    assert cli("db", "stop", env=env).returncode == 0
    with pytest.raises(psycopg2.OperationalError):
        _connect(tls_port, "powerbi", password, "require")
    _start(env)
    _connect(tls_port, "powerbi", password, "require").close()
    _start(env, "--listen", "localhost")
    assert _network(env) is None
    with pytest.raises(psycopg2.OperationalError):
        _connect(tls_port, "powerbi", password, "require")
    _connect(server_port, "powerbi", password, "prefer").close()  # on this machine, as before


def test_listen_refuses_addresses_outside_the_cidr(lan_server: dict[str, str]) -> None:
    env = dict(lan_server, SEGMART_LISTEN="127.0.0.1", SEGMART_LISTEN_CIDR="10.20.0.0/16")
    _start(env)
    network = _network(env)
    assert network is not None and network["cidr"] == "10.20.0.0/16"
    with pytest.raises(psycopg2.OperationalError, match="not allowed"):
        _connect(network["port"], "segmart", _owner_password(env), "require")


def test_listen_on_every_address_needs_a_cidr(lan_server: dict[str, str]) -> None:
    result = cli("db", "start", "--listen", "*", env=lan_server)
    assert result.returncode == 2 and "SEGMART_LISTEN_CIDR" in result.stderr
    assert "Traceback" not in result.stderr


def test_listen_uses_your_own_certificate(lan_server: dict[str, str], tmp_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "segmart test CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "mine.crt", tmp_path / "mine.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    env = dict(lan_server, SEGMART_TLS_CERT=str(cert_file), SEGMART_TLS_KEY=str(key_file))
    _start(env, "--listen", "127.0.0.1")
    port = _network(env)["port"]
    # the TLS handshake verifies against the user's own CA; the login itself then fails on the password
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(
            host="localhost",
            hostaddr="127.0.0.1",
            port=port,
            dbname="segmart",
            user="nobody",
            password="x",
            sslmode="verify-full",
            sslrootcert=str(cert_file),
        )


# --- stable contracts ----------------------------------------------------------------


@pytest.fixture(scope="module")
def committed() -> dict[str, dict]:
    return contracts.load()


def test_contract_snapshot_covers_what_the_exposures_read(committed: dict[str, dict]) -> None:
    assert {"client_segments", "client_product_usage", "client_cross_sell", "dim_date", "monthly_kpis"} <= set(
        committed
    )
    assert all(entry["columns"] and entry["exposures"] for entry in committed.values())
    assert "power_bi_segmentation_report" in committed["client_product_usage"]["exposures"]


def test_contract_check_fails_on_a_rename_a_retype_or_a_removal(committed: dict[str, dict]) -> None:
    renamed = copy.deepcopy(committed)
    columns = renamed["client_segments"]["columns"]
    columns["client_income"] = columns.pop("client_revenue")
    assert [str(b) for b in contracts.breaking_changes(committed, renamed)] == [
        "client_segments.client_revenue: removed or renamed (bump the model version)"
    ]
    retyped = copy.deepcopy(committed)
    retyped["dim_date"]["columns"]["calendar_date"] = "timestamp"
    retyped["monthly_kpis"]["columns"]["aov"] = "numeric(18,0)"  # cents rounded away
    assert [b.column for b in contracts.breaking_changes(committed, retyped)] == ["calendar_date", "aov"]
    removed = copy.deepcopy(committed)
    del removed["monthly_kpis"]
    assert [b.mart for b in contracts.breaking_changes(committed, removed)] == ["monthly_kpis"]


def test_contract_check_passes_additive_changes_and_version_bumps(committed: dict[str, dict]) -> None:
    added = copy.deepcopy(committed)
    added["client_segments"]["columns"]["client_region"] = "text"
    loose = copy.deepcopy(committed)
    loose["monthly_kpis"]["columns"]["aov"] = "numeric"  # as before the marts were typed
    assert contracts.breaking_changes(loose, committed) == []  # gaining a scale reads the same
    added["new_mart"] = {"version": None, "exposures": ["power_bi_segmentation_report"], "columns": {"x": "integer"}}
    assert contracts.breaking_changes(committed, added) == []
    bumped = copy.deepcopy(committed)
    bumped["client_segments"]["version"] = 2
    del bumped["client_segments"]["columns"]["client_revenue"]
    assert contracts.breaking_changes(committed, bumped) == []


@pytest.mark.slow
def test_project_keeps_the_committed_contracts() -> None:
    result = run_cli("bi", "contracts", check=False, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]


# --- self-describing, typed, related marts (one dbt build of the sample data) ------------


SEEDS = {path.stem for path in (ROOT / "seeds").glob("*.csv")}
# mart -> (its columns, the mart and columns they refer to); the relationships BI should find
EXPECTED_FOREIGN_KEYS = {
    ("client_cross_sell", ("client_id",), "client_segments", ("client_id",)),
    ("client_product_usage", ("client_id",), "client_segments", ("client_id",)),
}


@pytest.fixture(scope="module")
def built(connection_info, tmp_path_factory: pytest.TempPathFactory):
    """The sample data landed and every model built, in the test database."""
    from segmart import db
    from segmart.pipeline import sample_files

    pg = db.connect(connection_info)
    reset_database(pg)
    for kind, paths in sample_files().items():
        run_cli(kind, *map(str, paths))
    target = tmp_path_factory.mktemp("bi-dbt")
    run_dbt("build", tmp_target=target)
    yield pg, target
    pg.close()


def _mart_tables(pg) -> list[str]:
    return [
        name
        for (name,) in rows(
            pg,
            "select table_name from information_schema.tables "
            "where table_schema = 'data_mart' and table_type = 'BASE TABLE' order by 1",
        )
        if name not in SEEDS
    ]


@pytest.mark.slow
def test_every_mart_relation_and_column_carries_its_description(built) -> None:
    pg, _target = built
    missing = rows(
        pg,
        """
        select c.relname || coalesce('.' || a.attname, '')
        from pg_class as c
        inner join pg_namespace as n on n.oid = c.relnamespace
        left join pg_attribute as a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        where n.nspname = 'data_mart' and c.relkind in ('r', 'v', 'm', 'p')
          and coalesce(btrim(case when a.attname is null then obj_description(c.oid, 'pg_class')
                                  else col_description(c.oid, a.attnum) end), '') = ''
        union all
        select c.relname
        from pg_class as c
        inner join pg_namespace as n on n.oid = c.relnamespace
        where n.nspname = 'data_mart' and c.relkind in ('r', 'v', 'm', 'p')
          and coalesce(btrim(obj_description(c.oid, 'pg_class')), '') = ''
        order by 1
        """,
    )
    assert missing == []
    assert len(_mart_tables(pg)) >= 20


@pytest.mark.slow
def test_no_numeric_without_a_scale_in_data_mart(built) -> None:
    pg, _target = built
    loose = rows(
        pg,
        "select table_name || '.' || column_name || ' ' || data_type from information_schema.columns "
        "where table_schema = 'data_mart' and ((data_type = 'numeric' and numeric_scale is null) "
        "or data_type in ('double precision', 'real'))",
    )
    assert loose == []
    # and money keeps what the data holds: the UCI prices' third decimal is not rounded away
    assert (
        scalar(
            pg,
            "select numeric_scale from information_schema.columns "
            "where table_schema = 'data_mart' and table_name = 'sales_lines' and column_name = 'unit_price'",
        )
        >= 3
    )


@pytest.mark.slow
def test_every_mart_has_a_primary_key_and_the_foreign_keys_hold(built) -> None:
    pg, _target = built
    keyed = {
        name
        for (name,) in rows(
            pg,
            "select cl.relname from pg_constraint as co inner join pg_class as cl on cl.oid = co.conrelid "
            "where co.contype = 'p' and co.connamespace = 'data_mart'::regnamespace",
        )
    }
    assert [name for name in _mart_tables(pg) if name not in keyed] == []
    names = rows(
        pg,
        "select cl.relname, co.conname from pg_constraint as co inner join pg_class as cl on cl.oid = co.conrelid "
        "where co.contype = 'p' and co.connamespace = 'data_mart'::regnamespace",
    )
    assert [(table, key) for table, key in names if key != f"{table}_pkey"] == []  # not <table>__dbt_tmp_pkey
    declared = rows(
        pg,
        """
        select src.relname, array_agg(sa.attname order by k.n), dst.relname, array_agg(da.attname order by k.n),
               co.convalidated
        from pg_constraint as co
        inner join pg_class as src on src.oid = co.conrelid
        inner join pg_class as dst on dst.oid = co.confrelid
        cross join lateral unnest(co.conkey, co.confkey) with ordinality as k (src_att, dst_att, n)
        inner join pg_attribute as sa on sa.attrelid = co.conrelid and sa.attnum = k.src_att
        inner join pg_attribute as da on da.attrelid = co.confrelid and da.attnum = k.dst_att
        where co.contype = 'f' and co.connamespace = 'data_mart'::regnamespace
        group by co.oid, src.relname, dst.relname, co.convalidated
        """,
    )
    found = {(src, tuple(cols), dst, tuple(ref)) for src, cols, dst, ref, _valid in declared}
    assert EXPECTED_FOREIGN_KEYS <= found
    assert all(valid for *_rest, valid in declared)
    for src, cols, dst, ref in found:  # PostgreSQL enforces them; check the data anyway
        join = " and ".join(f"s.{c} = d.{r}" for c, r in zip(cols, ref, strict=True))
        not_null = " and ".join(f"s.{c} is not null" for c in cols)
        orphans = scalar(
            pg,
            f"select count(*) from data_mart.{src} as s left join data_mart.{dst} as d on {join} "
            f"where {not_null} and d.{ref[0]} is null",
        )
        assert orphans == 0, (src, dst)


@pytest.mark.slow
def test_dim_date_covers_every_date_of_every_mart(built) -> None:
    pg, _target = built
    date_columns = rows(
        pg,
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'data_mart' and data_type = 'date' and table_name <> 'dim_date'",
    )
    assert len(date_columns) > 10
    uncovered = {}
    for table, column in date_columns:
        count = scalar(
            pg,
            f'select count(*) from data_mart."{table}" as t left join data_mart.dim_date as d '
            f'on t."{column}" = d.calendar_date where t."{column}" is not null and d.calendar_date is null',
        )
        if count:
            uncovered[f"{table}.{column}"] = count
    assert uncovered == {}
    first, last, days = rows(pg, "select min(calendar_date), max(calendar_date), count(*) from data_mart.dim_date")[0]
    assert (first.month, first.day, last.month, last.day) == (1, 1, 12, 31)  # whole years
    assert days == (last - first).days + 1  # no gaps


@pytest.mark.slow
def test_rebuilds_stay_atomic_for_a_bi_reader(built, connection_info) -> None:
    """A BI login reading while marts with keys are rebuilt never sees an error or a missing table."""
    pg, target = built
    from segmart.bi.users import add_login

    login = add_login(pg, "bi_atomic_reader", reset_password=True)
    marts = ["dim_date", "client_segments", "client_cross_sell", "client_product_usage", "monthly_kpis"]
    errors: list[str] = []
    reads = 0
    stop = threading.Event()

    def reader() -> None:
        nonlocal reads
        conn = psycopg2.connect(**dict(connection_info.dsn_kwargs(), user=login.name, password=login.password))
        conn.autocommit = True
        try:
            while not stop.is_set():
                for mart in marts:
                    try:
                        with conn.cursor() as cur:
                            cur.execute(f"select count(*) from data_mart.{mart}")
                            if cur.fetchone()[0] == 0:
                                errors.append(f"{mart}: empty")
                        reads += 1
                    except psycopg2.Error as exc:
                        errors.append(f"{mart}: {exc}".strip())
        finally:
            conn.close()

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        started = time.monotonic()
        run_dbt("run", "-s", *marts, tmp_target=target)
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        thread.join(timeout=60)
    assert errors == []
    assert reads > len(marts), f"the reader ran only {reads} queries in {elapsed:.1f} s"
    with pg.cursor() as cur:
        cur.execute("drop role bi_atomic_reader")
    pg.commit()


@pytest.mark.slow
def test_docs_are_one_html_file_next_to_the_report(built, tmp_path: Path) -> None:
    run_cli("bi", "docs", "--out", str(tmp_path), timeout=600)
    [page] = list(tmp_path.iterdir())
    text = page.read_text(encoding="utf-8")
    assert page.name == "segmart_dbt_docs.html" and text.lstrip().lower().startswith("<!doctype html")
    # manifest and catalog are inlined: the page works from a file share, with no server
    assert "client_product_usage" in text and "calendar_date" in text
