"""``make bench``: the national-scale table (:mod:`benchmarks.scale`); ``--all`` runs every
``benchmarks/bench_*.py`` module's ``main()`` with its default arguments as well."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import benchmarks


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if "--all" in args:
        for module in sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__)):
            if module.startswith("bench_"):
                print(f"== {module} ==", flush=True)
                importlib.import_module(f"benchmarks.{module}").main([])
        args = [a for a in args if a != "--all"]
    importlib.import_module("benchmarks.scale").main(args)


if __name__ == "__main__":
    main()
