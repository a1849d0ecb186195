"""Helpers for the tests (tokens, in-process apps, per-service handles); never shipped.

Runtime packages never import this (an import-linter contract in `make lint` says so): the
service images install each service without the dev dependencies these helpers need."""
