"""kopf operator of the store: CatalogSeed seeds the catalog, SigningKeyRing rotates the
users service's JWT signing keys. Handlers are thin (handlers.py); the decisions are pure
(keyring.py, seeding.py) and the specs typed (specs.py)."""
