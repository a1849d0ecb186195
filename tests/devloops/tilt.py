"""Run a Tiltfile without Tilt: its Starlark is evaluated as Python, each Tilt built-in
replaced by a recorder that first binds the call to the built-in's signature from Tilt's
own typed stubs (so an unknown keyword, a missing argument or one positional too many
fails like Tilt would), then does what the check needs (reads files, renders the chart
with the real helm)."""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import yaml

STARLARK_BUILTINS = {
    "str",
    "int",
    "len",
    "dict",
    "list",
    "range",
    "sorted",
    "print",
    "enumerate",
    "zip",
    "any",
    "all",
    "type",
    "bool",
    "min",
    "max",
}


class Blob(str):
    """Tilt's Blob: text meant as content, not as a path."""


@dataclass
class Run:
    """What one evaluation of the Tiltfile asked Tilt to do."""

    calls: list[tuple[str, inspect.BoundArguments]] = field(default_factory=list)
    objects: list[dict[str, Any]] = field(default_factory=list)  # from k8s_yaml

    def of(self, name: str) -> list[dict[str, Any]]:
        return [dict(bound.arguments) for called, bound in self.calls if called == name]


def stub_modules(api: Path) -> dict[str, ModuleType]:
    """Tilt's stubs by the name a Tiltfile calls them under ("" for the top level)."""
    sys.path.insert(0, str(api.parent))
    try:
        return {
            prefix: importlib.import_module(module)
            for prefix, module in (
                ("", "api"),
                ("os", "api.os"),
                ("os.path", "api.os.path"),
                ("config", "api.config"),
            )
        }
    finally:
        sys.path.remove(str(api.parent))


def signatures(api: Path) -> dict[str, inspect.Signature]:
    """ "docker_build" / "os.path.join" / "config.parse" → its signature."""
    found = {}
    for prefix, module in stub_modules(api).items():
        for name, func in vars(module).items():
            if inspect.isfunction(func) and func.__module__ == module.__name__:
                found[f"{prefix}.{name}".lstrip(".")] = inspect.signature(func)
    return found


def static_problems(source: str, sigs: dict[str, inspect.Signature]) -> list[str]:
    """Every call in the file, executed or not, against the signatures (names only)."""
    tree = ast.parse(source, filename="Tiltfile")
    local = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    problems = []
    for call in (node for node in ast.walk(tree) if isinstance(node, ast.Call)):
        name = ast.unparse(call.func)
        if name in sigs:
            if any(isinstance(a, ast.Starred) for a in call.args) or any(
                k.arg is None for k in call.keywords
            ):
                continue
            try:
                sigs[name].bind(*call.args, **{k.arg: k.value for k in call.keywords if k.arg})
            except TypeError as error:
                problems.append(f"Tiltfile line {call.lineno}: {name}(): {error}")
        elif isinstance(call.func, ast.Name) and name not in local | STARLARK_BUILTINS:
            problems.append(f"Tiltfile line {call.lineno}: {name}() is not a Tilt built-in")
    return problems


def evaluate(
    tiltfile: Path,
    api: Path,
    helm: Path,
    flags: dict[str, Any] | None = None,
    charts: dict[str, Path] | None = None,
) -> Run:
    """Execute the Tiltfile with recording built-ins; `flags` is what config.parse() returns,
    `charts` where helm() finds a chart the Tiltfile names (default: the named path)."""
    root = tiltfile.parent
    run = Run()

    def render(
        chart: str, name: str = "", namespace: str = "", values: Any = (), set: Any = (), **_: Any
    ) -> Blob:
        argv = [
            str(helm),
            "template",
            name or "chart",
            str((charts or {}).get(chart, root / chart)),
        ]
        argv += ["--namespace", namespace] if namespace else []
        for value in [values] if isinstance(values, str) else values:
            argv += ["--values", str(root / value)]
        for flag in [set] if isinstance(set, str) else set:
            argv += ["--set", flag]
        return Blob(subprocess.run(argv, check=True, capture_output=True, text=True).stdout)

    def k8s_yaml(source: Any, **_: Any) -> None:
        for item in [source] if isinstance(source, str) else source:
            text = item if isinstance(item, Blob) else (root / item).read_text()
            run.objects += [obj for obj in yaml.safe_load_all(text) if obj]

    impls: dict[str, Callable[..., Any]] = {
        "read_yaml": lambda path, default=None: yaml.safe_load((root / path).read_text()),
        "helm": render,
        "k8s_yaml": k8s_yaml,
        "decode_yaml_stream": lambda text: [o for o in yaml.safe_load_all(text) if o],
        "encode_yaml_stream": lambda objs: Blob(yaml.safe_dump_all(objs)),
        "config.parse": lambda: dict(flags or {}),
    }
    sigs = signatures(api)

    def builtin(name: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            bound = sigs[name].bind(*args, **kwargs)
            run.calls.append((name, bound))
            impl = impls.get(name)
            return impl(*bound.args, **bound.kwargs) if impl else SimpleNamespace(call=name)

        return call

    scope: dict[str, Any] = {n: builtin(n) for n in sigs if "." not in n}
    scope["os"] = SimpleNamespace(
        path=SimpleNamespace(**{n[8:]: builtin(n) for n in sigs if n.startswith("os.path.")}),
        **{n[3:]: builtin(n) for n in sigs if n.startswith("os.") and n.count(".") == 1},
    )
    scope["config"] = SimpleNamespace(
        **{n[7:]: builtin(n) for n in sigs if n.startswith("config.")}
    )
    exec(compile(tiltfile.read_text(), str(tiltfile), "exec"), scope)
    return run
