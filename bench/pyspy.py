"""What a py-spy profile says, as tables: the share of samples by package and by function.

    py-spy record --pid PID --duration 20 --rate 200 --format raw --output prof.txt
    uv run python -m bench.pyspy prof.txt [--top 15]

`--format raw` writes one line per distinct stack, `frame;frame;...;frame count`, each frame
`function (path:line)`. A sample counts once for every package on its stack (inclusive) and
once for the package of its innermost frame (self: where the CPU actually was).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

# Innermost match wins: site-packages/<pkg>/..., else the store's own packages by directory.
_SITE = re.compile(r"site-packages/([A-Za-z0-9_]+)")
_OWN = re.compile(r"services/([a-z]+)/|/(bench|devstack)/")
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<path>[^():]+)(?::\d+)?\)$")


def package(path: str) -> str:
    if m := _SITE.search(path):
        return m.group(1)
    if m := _OWN.search(path):
        return m.group(1) or m.group(2)
    if "/lib/python" in path or path.startswith("<"):
        return "python (stdlib)"
    return path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Frame:
    func: str
    package: str

    @classmethod
    def parse(cls, text: str) -> Frame:
        m = _FRAME.match(text.strip())
        if not m:
            return cls(text.strip(), "?")
        return cls(f"{m['func']} ({m['path'].rsplit('/', 1)[-1]})", package(m["path"]))


@dataclass
class Profile:
    samples: int
    self_by_package: Counter[str]
    total_by_package: Counter[str]
    self_by_func: Counter[str]
    total_by_func: Counter[str]

    @classmethod
    def read(cls, path: Path) -> Profile:
        p = cls(0, Counter(), Counter(), Counter(), Counter())
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            n = int(count)
            # py-spy puts the thread ("process 1:\"MainThread\"") first when asked to.
            frames = [Frame.parse(f) for f in stack.split(";") if " (" in f]
            if not frames:
                continue
            p.samples += n
            p.self_by_package[frames[-1].package] += n
            p.self_by_func[f"{frames[-1].func} [{frames[-1].package}]"] += n
            for pkg in {f.package for f in frames}:
                p.total_by_package[pkg] += n
            for func in {f"{f.func} [{f.package}]" for f in frames}:
                p.total_by_func[func] += n
        return p

    def table(self, top: int) -> str:
        def pct(n: int) -> str:
            return f"{100 * n / max(1, self.samples):.1f} %"

        lines = [f"{self.samples} samples", "", "| package | self | inclusive |", "|---|---:|---:|"]
        for pkg, n in self.self_by_package.most_common(top):
            lines.append(f"| {pkg} | {pct(n)} | {pct(self.total_by_package[pkg])} |")
        lines += ["", "| function (self) | share |", "|---|---:|"]
        lines += [f"| `{f}` | {pct(n)} |" for f, n in self.self_by_func.most_common(top)]
        return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path, help="py-spy --format raw output")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    print(Profile.read(args.profile).table(args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
