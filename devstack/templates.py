"""Config files rendered from `${UPPER_CASE}` templates (gateway, Prometheus, Cassandra, ...).

Stdlib only: `python3 -m devstack.cassandra` uses it before any virtualenv exists."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from pathlib import Path


class _Template(string.Template):
    # Case-sensitive UPPER_CASE only, so nginx's $lower_case variables and Go templates'
    # $labels are never touched (the default idpattern is case-insensitive).
    idpattern = r"[A-Z][A-Z0-9_]*"
    flags = re.ASCII


_LEFTOVER = re.compile(r"\$\{[A-Z][A-Z0-9_]*\}")


def render(template: Path, dest: Path, values: Mapping[str, object]) -> Path:
    """Substitute ${UPPER} placeholders; refuse to leave one unrendered (a typo would
    otherwise surface as a confusing error of the program reading the file)."""
    text = _Template(template.read_text()).safe_substitute({k: str(v) for k, v in values.items()})
    if leftover := _LEFTOVER.findall(text):
        raise KeyError(f"{template.name}: no value for {sorted(set(leftover))}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(text)
    return dest
