"""Users service: accounts, roles, refresh tokens and the signing keys (JWKS) of the store."""
