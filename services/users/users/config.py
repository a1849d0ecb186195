"""Settings of the users service (environment variables prefixed USERS_)."""

from __future__ import annotations

from pathlib import Path

from kit.settings import ServiceSettings, service_config
from pydantic import Field, SecretStr


class UsersSettings(ServiceSettings):
    model_config = service_config("USERS_")

    service_name: str = "users"
    port: int = 8003
    cassandra_keyspace: str = "users"

    # Token lifetimes, in seconds.
    access_token_ttl: int = Field(default=900, ge=30, le=3600)
    refresh_token_ttl: int = Field(default=14 * 24 * 3600, ge=300)
    service_token_ttl: int = Field(default=300, ge=30, le=3600)

    # Signing keys: a mounted Secret in a cluster (`keys_dir`); without it, a key ring is
    # generated on first start under `local_keys_dir` and kept there across restarts.
    keys_dir: Path | None = None
    local_keys_dir: Path = Path("var/users-keys")
    keys_poll_interval: float = Field(default=3.0, gt=0)

    # First administrator, created at startup when missing. No default password exists.
    admin_username: str | None = None
    admin_email: str | None = None
    admin_password: SecretStr | None = None
    admin_password_file: Path | None = None

    # Service identities for POST /oauth/token (client credentials): JSON such as
    # {"cart": "<secret>", "orders": "<secret>"} and/or a directory with one file per client
    # (file name = client id, content = secret). None configured: every request gets 401.
    service_clients: dict[str, SecretStr] = Field(default_factory=dict)
    service_clients_dir: Path | None = None

    # argon2id cost (the defaults are argon2-cffi's RFC 9106 low-memory profile) and how
    # many hashes may run at once (each takes `argon2_memory_cost` KiB and a core).
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_cost: int = Field(default=65536, ge=8)
    argon2_parallelism: int = Field(default=4, ge=1)
    password_hash_concurrency: int = Field(default=2, ge=1)

    @property
    def signing_keys_dir(self) -> Path:
        return self.keys_dir or self.local_keys_dir

    def admin_password_value(self) -> str | None:
        if self.admin_password is not None:
            return self.admin_password.get_secret_value()
        if self.admin_password_file is not None:
            return self.admin_password_file.read_text().rstrip("\r\n")
        return None
