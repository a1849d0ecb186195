"""Test support: the handle the cart tests get from their fixture."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from fastapi import FastAPI

from tests.support.apps import HostRouter, TokenMinter


@dataclass
class CartEnv:
    cart: httpx.AsyncClient
    catalog: httpx.AsyncClient
    orders: httpx.AsyncClient
    app: FastAPI
    router: HostRouter
    minter: TokenMinter
