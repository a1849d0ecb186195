"""Property-based fuzzing of every public operation of the four services, with schemathesis.

Each service's live OpenAPI document (`/openapi.json` of the real process) drives the
generation; every case goes to the real service (uvicorn, Cassandra, its real peers) with an
admin token, and again with a user token. The contract checked (DESIGN.md section 3): no 5xx
for anything a client can send, and every error is JSON with a `detail` field.

Per operation, bounded and derandomized Hypothesis runs:
- positive: data the schema allows;
- negative: data it does not (wrong types, out of bounds, missing fields);
- real data: allowed data aimed at real resources (a product, an order, a user, a filled
  cart), with amounts that parse, edge-case amounts and odd X-Request-ID headers, so that
  cases get past the 404s into the services' logic and their calls to each other.
An operation that cannot be loaded, or that gets no valid case, fails the test; one that
gets no invalid case is reported as a warning. Excluded: the health probes (no input).

STORE_FUZZ_EXAMPLES=300 STORE_FUZZ_SEED=<n> make a deeper, random (and by seed
reproducible) local run.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import pytest
import pytest_asyncio
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from kit.topology import TOPOLOGY
from schemathesis import Case, GenerationMode
from schemathesis.checks import CheckContext, CheckFunction, not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.schemas import APIOperation

from tests.service_stack import Stack, fill

pytestmark = pytest.mark.integration

AnyCase = Case[Any]
Operation = APIOperation[Any, Any, Any, Any]

SERVICES = TOPOLOGY.names
ROLES = ("admin", "user")
MAX_EXAMPLES = int(os.environ.get("STORE_FUZZ_EXAMPLES", "25"))
SEED = os.environ.get("STORE_FUZZ_SEED")
# Readiness probes answer 503 by design while a dependency is down, and the aggregate one
# probes the stack's configured peers: none of them takes client input.
EXCLUDED_PREFIXES = ("/health/",)
FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=SEED is None,
    database=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=list(HealthCheck),
)


@dataclass
class World:
    """The caller of one fuzz run and real resources for its cases."""

    stack: Stack
    headers: dict[str, str]  # the caller's Authorization header
    known: dict[str, str]  # real values for parameters and body fields, by name
    refill: Callable[[], None]  # puts one unit of the product in the caller's cart


@dataclass
class Outcome:
    """What one service x role run sent and got back."""

    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)  # runs that got no case: warnings
    notes: list[str] = field(default_factory=list)

    def record(self, label: str, status: int) -> None:
        self.statuses.setdefault(label, Counter())[status] += 1

    def report(self) -> str:
        lines = [f"  {label}: {dict(sorted(s.items()))}" for label, s in self.statuses.items()]
        return "\n".join(lines + [f"  note: {n}" for n in self.notes + self.gaps])


def error_has_detail(ctx: CheckContext, response: schemathesis.Response, case: AnyCase) -> None:
    """Every 4xx/5xx is JSON (problem details) with a `detail` field."""
    if response.status_code < 400:
        return
    content_type = response.headers.get("content-type", [""])[0]
    assert "json" in content_type, (
        f"{response.status_code} error is not JSON (content-type {content_type!r}): "
        f"{response.text[:300]!r}"
    )
    try:
        body = json.loads(response.text)
    except ValueError as exc:
        raise AssertionError(f"{response.status_code} error body is not JSON: {exc}") from exc
    assert isinstance(body, dict) and "detail" in body, (
        f"{response.status_code} error has no `detail` field: {response.text[:300]!r}"
    )


CHECKS: list[CheckFunction] = [not_a_server_error, error_has_detail]

# Money travels as a decimal string, which the OpenAPI document can only describe as "a
# number or a string": most generated strings are not amounts. The real-data run sends
# amounts, valid ones and edge cases (sub-cent, huge exponents, the bounds).
MONEY_FIELDS = ("price", "min_price", "max_price")
EDGE_AMOUNTS = ("0", "0.001", "1e-3000000000", "1E+5", "999999.99", "999999.999", "1000000")
AMOUNTS = st.one_of(
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999.99"), places=2).map(str),
    st.sampled_from(EDGE_AMOUNTS),
)
# Every service reads X-Request-ID, echoes it and forwards it on its calls to the others:
# header values of any latin-1 text an HTTP client sends (no controls, no leading space).
REQUEST_IDS = st.none() | st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_categories=["Cc"]),
    min_size=1,
    max_size=140,
).filter(lambda value: not value[0].isspace())


@dataclass(frozen=True)
class Aimed:
    """A real-data case: the case and the extra headers it goes with."""

    case: AnyCase
    headers: dict[str, str]


def inject_known(case: AnyCase, known: dict[str, str]) -> AnyCase:
    """Aim a generated case at real resources: known values replace generated path
    parameters, query parameters and top-level JSON body fields of the same name."""
    for name, value in known.items():
        if case.path_parameters and name in case.path_parameters:
            case.path_parameters[name] = value
        if case.query and name in case.query:
            case.query[name] = value
        if isinstance(case.body, dict) and name in case.body:
            case.body[name] = value
    return case


def with_amounts(case: AnyCase, amounts: dict[str, str]) -> AnyCase:
    """Amounts for the operation's money inputs, optional ones included."""
    query_names = {p.name for p in case.operation.query}
    for name, value in amounts.items():
        if name in query_names:
            case.query = {**(case.query or {}), name: value}
        elif isinstance(case.body, dict):
            case.body[name] = value
    return case


def input_names(op: Operation) -> set[str]:
    names = {p.name for p in op.iter_parameters()}
    for body in op.body:
        names |= set(body.definition.get("schema", {}).get("properties", {}))
    return names


def strategies(op: Operation, known: dict[str, str]) -> Iterator[tuple[str, Any, int]]:
    """(mode, strategy, examples) of each run of the operation."""
    yield "positive", op.as_strategy(generation_mode=GenerationMode.POSITIVE), MAX_EXAMPLES
    yield "negative", op.as_strategy(generation_mode=GenerationMode.NEGATIVE), MAX_EXAMPLES
    money = [name for name in MONEY_FIELDS if name in input_names(op)]
    amounts = st.fixed_dictionaries({}, optional={name: AMOUNTS for name in money})

    def aim(drawn: tuple[AnyCase, dict[str, str], str | None]) -> Aimed:
        case, amounts, rid = drawn
        aimed = with_amounts(inject_known(case, known), amounts)
        return Aimed(aimed, {"X-Request-ID": rid} if rid else {})

    positive = op.as_strategy(generation_mode=GenerationMode.POSITIVE)
    # Amounts combine with the other inputs (a sort, the other bound): more examples.
    examples = MAX_EXAMPLES * (4 if money else 1)
    yield "real data", st.tuples(positive, amounts, REQUEST_IDS).map(aim), examples


# Before each case of these operations the caller's cart gets one unit of the product
# again: a checkout empties the cart, and each case should reach the checkout saga.
NEEDS_FULL_CART = {"POST /cart/checkout"}


def fuzz_operation(
    world: World,
    base_url: str,
    session: requests.Session,
    op: Operation,
    mode: str,
    strategy: Any,
    examples: int,
    outcome: Outcome,
) -> None:
    """One bounded Hypothesis run of one operation; failures and gaps go to `outcome`."""
    sent = 0

    @settings(FUZZ_SETTINGS, max_examples=examples)
    @given(drawn=strategy)
    def run(drawn: AnyCase | Aimed) -> None:
        nonlocal sent
        case, extra = (drawn.case, drawn.headers) if isinstance(drawn, Aimed) else (drawn, {})
        if op.label in NEEDS_FULL_CART:
            world.refill()
        headers = {**world.headers, **extra}
        response = case.call(base_url=base_url, session=session, headers=headers, timeout=30)
        sent += 1
        outcome.record(op.label, response.status_code)
        case.validate_response(response, checks=CHECKS, headers=headers)

    if SEED is not None:
        run = seed(int(SEED))(run)
    where = f"{op.label} [{mode}]"
    try:
        run()
    except Unsatisfiable:
        pass  # reported below: no case was sent
    except Exception as exc:  # a check failed, or the request itself did
        outcome.failures.append(f"{where}:\n{exc}")
        return
    if sent:
        return
    if mode != "negative":
        outcome.failures.append(f"{where}: no case could be generated")
    elif input_names(op):
        outcome.gaps.append(f"{where}: no invalid case could be generated")
    else:
        outcome.notes.append(f"{where}: takes no input, so no invalid case exists")


def fuzz_service(world: World, base_url: str, schema: Any) -> Outcome:
    outcome = Outcome()
    with requests.Session() as session:
        for result in schema.get_all_operations():
            if not isinstance(result, Ok):
                outcome.failures.append(f"operation could not be loaded: {result.err()}")
                continue
            op = result.ok()
            if op.path.startswith(EXCLUDED_PREFIXES):
                outcome.notes.append(f"{op.label}: excluded (a health probe, no input)")
                continue
            for mode, strategy, examples in strategies(op, world.known):
                fuzz_operation(world, base_url, session, op, mode, strategy, examples, outcome)
    return outcome


@pytest_asyncio.fixture
async def world(stack: Stack, request: pytest.FixtureRequest) -> World:
    """A product with plenty of stock, a user with an order, and the caller's cart filled."""
    role: str = request.node.callspec.params["role"]
    product = await stack.new_product(stock=100_000)
    async with stack.client("users") as users, stack.client("cart") as cart:
        user = await stack.new_user(users)
        headers = await stack.admin_headers() if role == "admin" else user
        user_id = (await users.get("/me", headers=user)).json()["id"]
        await fill(cart, user, product, 1)
        checkout = await cart.post("/cart/checkout", headers=user)
        assert checkout.status_code == 201, checkout.text
        order_id = checkout.json()["id"]
        await fill(cart, headers, product, 1)

    def refill() -> None:
        with httpx.Client(base_url=stack.url("cart"), timeout=30) as client:
            response = client.post(
                "/cart/items", json={"product_id": product, "quantity": 1}, headers=headers
            )
            assert response.status_code == 201, response.text

    known = {"product_id": product, "order_id": order_id, "user_id": user_id}
    return World(stack, headers, known, refill)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("service", SERVICES)
def test_fuzz(world: World, service: str, role: str) -> None:
    base_url = world.stack.url(service)
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json", timeout=30)
    started = time.monotonic()
    outcome = fuzz_service(world, base_url, schema)
    summary = f"{service} as {role}, {time.monotonic() - started:.1f}s:\n{outcome.report()}"
    print(summary)
    for gap in outcome.gaps:
        warnings.warn(f"fuzz {service} as {role}: {gap}", stacklevel=1)
    assert not outcome.failures, "\n\n".join([summary, *outcome.failures])
    assert outcome.statuses, "no case was sent at all"
