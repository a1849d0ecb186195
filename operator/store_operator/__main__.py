"""`python -m store_operator [kopf run options]`: the operator, watching all namespaces unless
told otherwise (e.g. `--namespace store`)."""

from __future__ import annotations

import sys

from kopf.cli import main as kopf


def main() -> None:
    options = sys.argv[1:] or ["--all-namespaces"]
    sys.argv = ["kopf", "run", "--module", "store_operator.handlers", *options]
    kopf()


if __name__ == "__main__":
    main()
