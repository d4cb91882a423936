"""Run every ``benchmarks/bench_*.py`` module's ``main()`` with its default arguments."""

from __future__ import annotations

import importlib
import pkgutil

import benchmarks


def main() -> None:
    for module in sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__)):
        if module.startswith("bench_"):
            print(f"== {module} ==", flush=True)
            importlib.import_module(f"benchmarks.{module}").main([])


if __name__ == "__main__":
    main()
