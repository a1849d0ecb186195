"""Strict JSON-schema validators for rendered objects: Kubernetes' own kinds from the API
server's /openapi/v3, custom resources from the upstream CRDs and the operator's.

"Strict" means what `kubectl apply --validate=strict` means: a field the schema does not
know is an error (objects get additionalProperties false unless they declare free-form
content with additionalProperties or x-kubernetes-preserve-unknown-fields).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.chart.chart import CHARTS, YamlLoader

Schema = dict[str, Any]
Validators = dict[tuple[str, str], jsonschema.protocols.Validator]  # (apiVersion, kind)


def strict(schema: Any) -> Any:
    """A copy where every object schema with properties rejects unknown keys."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: strict(value) for key, value in schema.items()}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    if out.get("format") == "int-or-string" or out.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
    if out.get("nullable") and "type" in out:  # OpenAPI 3.0's way of saying "or null"
        out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else out["type"]
    return out


# The store operator's CRDs (a dependency of the umbrella chart; helm template leaves crds/ out).
OUR_CRDS = sorted((CHARTS / "operator" / "crds").glob("*.yaml"))


def upstream_crd_files(upstream: Path) -> list[Path]:
    """The CRDs in ../shared/upstream: <chart>/crds/*.yaml and <chart>/<group>_<plural>.yaml."""
    return sorted(upstream.glob("*/crds/*.yaml")) + sorted(upstream.glob("*/*_*.yaml"))


def load_crds(paths: Iterable[Path]) -> list[Schema]:
    crds = []
    for path in paths:
        crds += [d for d in yaml.load_all(path.read_text(), Loader=YamlLoader) if d]
    return crds


def crd_validators(crds: Iterable[Schema]) -> Validators:
    validators: Validators = {}
    for crd in crds:
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            schema = strict(copy.deepcopy(version["schema"]["openAPIV3Schema"]))
            # apiVersion/kind/metadata are checked by the API server's own rules (a CRD need
            # not declare them).
            schema["properties"]["metadata"] = {"type": "object"}
            for implicit in ("apiVersion", "kind"):
                schema["properties"].setdefault(implicit, {"type": "string"})
            validators[(f"{group}/{version['name']}", kind)] = jsonschema.Draft202012Validator(
                schema
            )
    return validators


def openapi_validators(fetch: Callable[[str], Schema], wanted: set[tuple[str, str]]) -> Validators:
    """Validators for the wanted (apiVersion, kind) from the server's OpenAPI v3 documents;
    `fetch` GETs a path of the API server and returns the JSON."""
    index = fetch("/openapi/v3")["paths"]
    validators: Validators = {}
    for group_version in sorted({api for api, _ in wanted}):
        path = "api/v1" if group_version == "v1" else f"apis/{group_version}"
        document = fetch(index[path]["serverRelativeURL"])
        schemas = strict(document["components"]["schemas"])
        root = {"components": {"schemas": schemas}}
        registry: Registry[Any] = Registry().with_resource(
            "urn:openapi", Resource.from_contents(root, default_specification=DRAFT202012)
        )
        for name, schema in schemas.items():
            for gvk in schema.get("x-kubernetes-group-version-kind", []):
                api = f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"]
                if (api, gvk["kind"]) in wanted:
                    validators[(api, gvk["kind"])] = jsonschema.Draft202012Validator(
                        {"$ref": f"urn:openapi#/components/schemas/{name}"}, registry=registry
                    )
    return validators


def errors(validators: Validators, obj: Schema) -> list[str]:
    """Every schema violation of one object, as 'Kind/name: path: message'."""
    key = (obj["apiVersion"], obj["kind"])
    where = f"{obj['kind']}/{obj['metadata']['name']}"
    if key not in validators:
        return [f"{where}: no schema for {key}"]
    return [
        f"{where}: {'.'.join(str(p) for p in error.absolute_path)}: {error.message}"
        for error in validators[key].iter_errors(obj)
    ]
