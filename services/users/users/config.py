"""Settings of the users service (environment variables prefixed USERS_)."""

from __future__ import annotations

from pathlib import Path

from kit.settings import ServiceSettings
from kit.topology import TOPOLOGY
from pydantic import Field, SecretStr

ME = TOPOLOGY.service("users")


class UsersSettings(ServiceSettings, env_prefix=ME.env_prefix):
    service_name: str = ME.name
    port: int = ME.port
    cassandra_keyspace: str = ME.keyspace

    # Token lifetimes, in seconds.
    access_token_ttl: int = Field(
        default=900, ge=30, le=3600, description="Lifetime of an access token (s)"
    )
    refresh_token_ttl: int = Field(
        default=14 * 24 * 3600, ge=300, description="Lifetime of a refresh-token family (s)"
    )
    service_token_ttl: int = Field(
        default=300, ge=30, le=3600, description="Lifetime of a service token (s)"
    )

    # Signing keys: a mounted Secret in a cluster (`keys_dir`); without it, a key ring is
    # generated on first start under `local_keys_dir` and kept there across restarts.
    keys_dir: Path | None = Field(
        default=None, description="Signing-key directory (a mounted Secret in a cluster)"
    )
    local_keys_dir: Path = Field(
        default=Path("var/users-keys"),
        description="Without KEYS_DIR: key ring generated here on first start and kept",
    )
    keys_poll_interval: float = Field(
        default=3.0, gt=0, description="Seconds between checks of the key directory"
    )

    # First administrator, created at startup when missing. No default password exists.
    admin_username: str | None = Field(
        default=None, description="First admin, created at startup when missing"
    )
    admin_email: str | None = Field(default=None, description="E-mail of the first admin")
    admin_password: SecretStr | None = Field(
        default=None, description="Password of the first admin"
    )
    admin_password_file: Path | None = Field(
        default=None, description="File holding that password (instead of ADMIN_PASSWORD)"
    )

    # Service identities for POST /oauth/token (client credentials): JSON such as
    # {"cart": "<secret>", "orders": "<secret>"} and/or a directory with one file per client
    # (file name = client id, content = secret). None configured: every request gets 401.
    service_clients: dict[str, SecretStr] = Field(
        default_factory=dict, description='JSON {"<client id>": "<secret>"}'
    )
    service_clients_dir: Path | None = Field(
        default=None, description="Directory of client secrets, one file per client id"
    )

    # argon2id cost (the defaults are argon2-cffi's RFC 9106 low-memory profile) and how
    # many hashes may run at once (each takes `argon2_memory_cost` KiB and a core).
    argon2_time_cost: int = Field(default=3, ge=1, description="argon2id iterations")
    argon2_memory_cost: int = Field(
        default=65536, ge=8, description="argon2id memory per hash (KiB)"
    )
    argon2_parallelism: int = Field(default=4, ge=1, description="argon2id lanes")
    password_hash_concurrency: int = Field(
        default=2, ge=1, description="Password hashes computed at once"
    )

    @property
    def signing_keys_dir(self) -> Path:
        return self.keys_dir or self.local_keys_dir

    def admin_password_value(self) -> str | None:
        if self.admin_password is not None:
            return self.admin_password.get_secret_value()
        if self.admin_password_file is not None:
            return self.admin_password_file.read_text().rstrip("\r\n")
        return None
