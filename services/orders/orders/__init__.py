"""Orders service: orders, order events and the lifecycle worker."""
