"""kopf handlers: thin adapters from resource events to the pure cores.

Run: `kopf run -m store_operator.handlers --all-namespaces` (the image's command), or
`python -m store_operator`. Settings (environment): STORE_OPERATOR_RING_CHECK_SECONDS,
how often each SigningKeyRing is looked at (the decisions come from persisted timestamps;
this only bounds how late a due step can be).
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import kopf
import kubernetes
from kubernetes.client.exceptions import ApiException

from store_operator import keyring, seeding
from store_operator.specs import GROUP, MANAGED_BY, VERSION, RingSpec, SeedSpec, SpecError, parse

RING = (GROUP, VERSION, "signingkeyrings")
SEED = (GROUP, VERSION, "catalogseeds")
KOPF_PREFIX = f"operator.{GROUP}"
RING_CHECK_SECONDS = float(os.environ.get("STORE_OPERATOR_RING_CHECK_SECONDS", "10"))


@kopf.on.login()
def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    """kopf and the kubernetes client (Secrets, status) log in the same way: the pod's
    service account, else $KUBECONFIG as set now (the client library reads it at import)."""
    try:
        kubernetes.config.load_incluster_config()  # type: ignore[no-untyped-call]
        return kopf.login_with_service_account(**kwargs)
    except kubernetes.config.ConfigException:
        kubernetes.config.load_kube_config(config_file=os.environ.get("KUBECONFIG"))  # type: ignore[no-untyped-call]
        return kopf.login_with_kubeconfig(**kwargs)


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    settings.posting.level = 20  # events for INFO and above: start, finish, rotations
    # The CRDs come with the chart, before the operator starts: no need to watch for new
    # ones (and no RBAC on customresourcedefinitions).
    settings.scanning.disabled = True
    # kopf's bookkeeping under a prefix of its own: kopf ignores annotations under it when
    # diffing, and productstore.io/rotate must count as a change.
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=KOPF_PREFIX)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=KOPF_PREFIX, key="last-handled-configuration"
    )


def core() -> kubernetes.client.CoreV1Api:
    return kubernetes.client.CoreV1Api()


def ready_condition(
    previous: Mapping[str, Any] | None, ready: bool, reason: str, message: str
) -> dict[str, Any]:
    """The Ready condition; its transition time moves only when its status does."""
    status = "True" if ready else "False"
    for old in (previous or {}).get("conditions") or []:
        if old.get("type") == "Ready" and old.get("status") == status:
            since = old.get("lastTransitionTime")
            break
    else:
        since = datetime.now(UTC).isoformat()
    return {
        "conditions": [
            {
                "type": "Ready",
                "status": status,
                "reason": reason,
                "message": message,
                "lastTransitionTime": since,
            }
        ]
    }


# --- SigningKeyRing ----------------------------------------------------------------------------


def _read_secret(namespace: str, name: str) -> Any | None:
    try:
        return core().read_namespaced_secret(name, namespace)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def _owned_by(secret: Any, uid: str) -> bool:
    return any(ref.uid == uid for ref in secret.metadata.owner_references or [])


def _write_secret(
    body: kopf.Body, namespace: str, name: str, current: Any | None, ring: keyring.Ring
) -> None:
    """Create or replace the Secret in one write; replace is conditional on the version read,
    so two concurrent reconciliations cannot both rotate."""
    secret: Any = {  # the client takes plain dicts too
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": name,
            "labels": {"app.kubernetes.io/managed-by": MANAGED_BY},
            "annotations": keyring.secret_annotations(ring),
        },
        "data": {k: base64.b64encode(v).decode() for k, v in sorted(ring.files.items())},
    }
    kopf.adopt(secret, owner=body, strict=True)
    try:
        if current is None:
            core().create_namespaced_secret(namespace, secret)
        else:
            secret["metadata"]["resourceVersion"] = current.metadata.resource_version
            core().replace_namespaced_secret(name, namespace, secret)
    except ApiException as exc:
        if exc.status == 409:
            raise kopf.TemporaryError("the Secret changed meanwhile; again", delay=1) from exc
        raise


@kopf.on.create(*RING)
@kopf.on.resume(*RING)
@kopf.on.update(*RING)  # the spec, or the rotate annotation
@kopf.timer(*RING, interval=RING_CHECK_SECONDS, initial_delay=RING_CHECK_SECONDS)
def reconcile_ring(
    body: kopf.Body,
    spec: kopf.Spec,
    meta: kopf.Meta,
    status: kopf.Status,
    namespace: str | None,
    name: str,
    uid: str,
    patch: kopf.Patch,
    **_: Any,
) -> None:
    assert namespace, "SigningKeyRing is namespaced"
    try:
        ring_spec = parse(RingSpec, spec)
    except SpecError as exc:
        patch.status.update(ready_condition(status, False, "InvalidSpec", str(exc)))
        return
    secret_name = ring_spec.secret_name or name
    current = _read_secret(namespace, secret_name)
    if current is not None and not _owned_by(current, uid):
        message = f"Secret {secret_name} exists and is not owned by this SigningKeyRing"
        patch.status.update(ready_condition(status, False, "SecretConflict", message))
        return
    data = {k: base64.b64decode(v) for k, v in ((current.data if current else None) or {}).items()}
    annotations = (current.metadata.annotations if current else None) or {}
    before = keyring.ring_from_secret(data, annotations)
    step = keyring.plan(
        before, ring_spec, datetime.now(UTC), meta.annotations.get(keyring.ROTATE_ANNOTATION)
    )
    if step.ring != before:
        _write_secret(body, namespace, secret_name, current, step.ring)
        for event in step.events:
            kopf.info(body, reason="KeyRing", message=event)
    patch.status.update(keyring.status(step.ring, ring_spec))
    patch.status["observedGeneration"] = meta.get("generation")
    message = f"active key {step.ring.active} in Secret {secret_name}"
    patch.status.update(ready_condition(status, True, "KeysReady", message))


# --- CatalogSeed -------------------------------------------------------------------------------


def _seed_status(namespace: str, name: str, fields: dict[str, Any]) -> None:
    """Status written while the handler runs (progress), not only when it returns."""
    kubernetes.client.CustomObjectsApi().patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, "catalogseeds", name, {"status": fields}
    )


def _config_map(namespace: str) -> Any:
    def read(name: str) -> Mapping[str, str] | None:
        try:
            return core().read_namespaced_config_map(name, namespace).data or {}
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    return read


def _client_credentials(namespace: str, spec: SeedSpec) -> tuple[str, str]:
    identity = spec.identity
    secret = _read_secret(namespace, identity.secret_name)
    data = (secret.data if secret else None) or {}
    missing = [k for k in (identity.client_id_key, identity.client_secret_key) if k not in data]
    if secret is None or missing:
        raise SpecError(f"Secret {identity.secret_name} is missing or lacks {missing}")
    return (
        base64.b64decode(data[identity.client_id_key]).decode().strip(),
        base64.b64decode(data[identity.client_secret_key]).decode().strip(),
    )


@kopf.on.create(*SEED)
@kopf.on.update(*SEED, field="spec")
@kopf.on.resume(
    *SEED,
    when=lambda status, meta, **_: status.get("observedGeneration") != meta.get("generation"),
)
async def seed_catalog(
    body: kopf.Body,
    spec: kopf.Spec,
    meta: kopf.Meta,
    status: kopf.Status,
    namespace: str | None,
    name: str,
    retry: int,
    **_: Any,
) -> None:
    assert namespace, "CatalogSeed is namespaced"
    generation = meta.get("generation")

    async def show(fields: dict[str, Any]) -> None:
        await asyncio.to_thread(_seed_status, namespace, name, fields)

    try:
        seed_spec = parse(SeedSpec, spec)
        items = await asyncio.to_thread(seeding.products, seed_spec, _config_map(namespace))
        client_id, secret = await asyncio.to_thread(_client_credentials, namespace, seed_spec)
    except SpecError as exc:
        await show({"phase": "Failed", **ready_condition(status, False, "InvalidSpec", str(exc))})
        kopf.warn(body, reason="SeedFailed", message=str(exc))
        raise kopf.PermanentError(str(exc)) from exc
    url = seed_spec.catalog.base_url(namespace)
    total = len(items)
    if retry == 0:
        kopf.info(body, reason="Seeding", message=f"seeding {total} products into {url}")
    await show({"phase": "Seeding", "total": total, "progress": f"0/{total}"})

    async def progress(written: int) -> None:
        await show({"progress": f"{written}/{total}", "seededCount": written})

    try:
        async with httpx.AsyncClient(timeout=30) as client:

            async def token() -> str:
                identity = seed_spec.identity
                return await seeding.service_token(client, identity.token_url, client_id, secret)

            written = await seeding.upsert(
                client, url, token, items, seed_spec.batch_size, progress
            )
    except seeding.CatalogUnavailable as exc:
        delay = seeding.backoff(retry)
        message = f"{exc}; retrying in {delay:.0f}s"
        await show(
            {"phase": "Retrying", **ready_condition(status, False, "CatalogUnavailable", message)}
        )
        kopf.warn(body, reason="CatalogUnavailable", message=message)
        raise kopf.TemporaryError(message, delay=delay) from exc
    except SpecError as exc:
        await show({"phase": "Failed", **ready_condition(status, False, "Refused", str(exc))})
        kopf.warn(body, reason="SeedFailed", message=str(exc))
        raise kopf.PermanentError(str(exc)) from exc
    message = f"seeded {written} products into {url}"
    await show(
        {
            "phase": "Ready",
            "seededCount": written,
            "progress": f"{written}/{total}",
            "lastSeedTime": datetime.now(UTC).isoformat(),
            "observedGeneration": generation,
            **ready_condition(status, True, "Seeded", message),
        }
    )
    kopf.info(body, reason="Seeded", message=message)
