"""Is a node up? A real CQL round trip (native protocol OPTIONS → SUPPORTED), not a TCP
connect, so a port that is bound but not serving CQL does not count."""

from __future__ import annotations

import socket
import struct

from devstack.cassandra.config import Settings

_OPCODE_OPTIONS, _OPCODE_SUPPORTED = 0x05, 0x06


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed mid-frame")
        buf += chunk
    return buf


def cql_options(
    host: str = "127.0.0.1", port: int | None = None, timeout: float = 2.0
) -> dict[str, list[str]]:
    """Send a native-protocol v4 OPTIONS frame and return the SUPPORTED multimap."""
    port = Settings.from_env().cql_port if port is None else port
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.settimeout(timeout)
        # header: version=4 (request), flags=0, stream=1, opcode=OPTIONS, body length=0
        s.sendall(struct.pack(">BBhBi", 0x04, 0, 1, _OPCODE_OPTIONS, 0))
        version, _flags, _stream, opcode, length = struct.unpack(">BBhBi", _recv_exact(s, 9))
        body = _recv_exact(s, length)
    if version & 0x80 == 0 or opcode != _OPCODE_SUPPORTED:
        raise ConnectionError(f"unexpected CQL reply version=0x{version:02x} opcode=0x{opcode:02x}")
    # body: [string multimap] = [short n] n * ([string key] [string list])
    pos = 0

    def short() -> int:
        nonlocal pos
        (v,) = struct.unpack_from(">H", body, pos)
        pos += 2
        return int(v)

    def string() -> str:
        nonlocal pos
        n = short()
        v = body[pos : pos + n].decode()
        pos += n
        return v

    return {string(): [string() for _ in range(short())] for _ in range(short())}


def is_up(port: int | None = None, host: str = "127.0.0.1") -> bool:
    try:
        cql_options(host, port, timeout=2.0)
        return True
    except (OSError, ConnectionError, struct.error):
        return False
