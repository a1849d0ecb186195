"""Cart service: carts, the checkout saga and its idempotency records."""
