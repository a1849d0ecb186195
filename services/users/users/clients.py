"""Service identities (OAuth2 client credentials) from settings and/or a mounted Secret."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from pathlib import Path

from pydantic import SecretStr

log = logging.getLogger("users.clients")
CLIENT_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
MIN_SECRET_LENGTH = 16


def read_clients_dir(directory: Path) -> dict[str, str]:
    """One file per client: the name is the client id, the content its secret."""
    clients: dict[str, str] = {}
    if not directory.is_dir():
        return clients
    for path in directory.iterdir():
        if path.name.startswith(".") or not path.is_file():
            continue
        clients[path.name] = path.read_text().strip()
    return clients


def _valid(raw: dict[str, str]) -> dict[str, bytes]:
    clients: dict[str, bytes] = {}
    for client_id, secret in raw.items():
        if not CLIENT_ID.match(client_id):
            log.warning("ignoring service client %r: invalid client id", client_id)
        elif len(secret) < MIN_SECRET_LENGTH:
            log.warning(
                "ignoring service client %r: secret shorter than %d characters",
                client_id,
                MIN_SECRET_LENGTH,
            )
        else:
            clients[client_id] = hashlib.sha256(secret.encode()).digest()
    return clients


class ServiceClients:
    def __init__(
        self, configured: dict[str, SecretStr] | None = None, directory: Path | None = None
    ) -> None:
        self._configured = {k: v.get_secret_value() for k, v in (configured or {}).items()}
        self.directory = directory
        self._digests: dict[str, bytes] = {}
        self._unknown = hashlib.sha256(secrets.token_bytes(32)).digest()
        self.reload()

    def reload(self) -> bool:
        raw = dict(self._configured)
        if self.directory is not None:
            raw.update(read_clients_dir(self.directory))
        digests = _valid(raw)
        changed = digests != self._digests
        if changed:
            log.info("service clients: %s", sorted(digests) or "none")
        self._digests = digests
        return changed

    @property
    def ids(self) -> list[str]:
        return sorted(self._digests)

    def authenticate(self, client_id: str, client_secret: str) -> bool:
        """Constant-time comparison of equal-length digests, also for unknown clients."""
        expected = self._digests.get(client_id)
        given = hashlib.sha256(client_secret.encode()).digest()
        matches = hmac.compare_digest(given, expected or self._unknown)
        return matches and expected is not None
