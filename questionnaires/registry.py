"""Finding and loading instrument files: the built-in Klik set plus researchers' own directories."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from questionnaires.errors import InstrumentError
from questionnaires.model import Instrument
from questionnaires.schema import instrument_to_dict, parse_instrument

INSTRUMENT_SUFFIXES: tuple[str, ...] = (".yaml", ".yml")


def builtin_dir() -> Path:
    """The directory holding the instrument files shipped with Klik."""
    return Path(str(resources.files("questionnaires") / "instruments"))


def load_instrument(path: str | Path) -> Instrument:
    """Read and check one instrument file.

    Raises
    ------
    InstrumentError
        When the file cannot be read, is not YAML, or breaks a rule of the format; the message
        names the file, the item and the problem.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InstrumentError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise InstrumentError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    return parse_instrument_text(text, str(path))


def parse_instrument_text(text: str, origin: str = "<instrument>") -> Instrument:
    """Parse the YAML text of an instrument file (see :func:`load_instrument`)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InstrumentError(f"{origin}: {where}not valid YAML: {problem}") from exc
    return parse_instrument(data, origin)


def dump_instrument(instrument: Instrument) -> str:
    """The instrument as YAML text in the file format (loads back to an equal instrument)."""
    return yaml.safe_dump(
        instrument_to_dict(instrument), sort_keys=False, allow_unicode=True, width=100
    )


def instrument_files(directory: str | Path) -> list[Path]:
    """The instrument files (``*.yaml``, ``*.yml``) directly in a directory, sorted by name."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InstrumentError(f"{directory}: not a directory of instrument files")
    return sorted(p for p in directory.iterdir() if p.suffix in INSTRUMENT_SUFFIXES and p.is_file())


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key for versions: numeric parts compare as numbers (``1.10`` after ``1.9``)."""
    parts = re.split(r"[.\-_]", version)
    return tuple((0, int(x)) if x.isdigit() else (1, x) for x in parts)


@dataclass(frozen=True)
class Registry:
    """All loaded instruments, by ``(id, version)``."""

    by_key: dict[tuple[str, str], Instrument]

    def get(self, instrument_id: str, version: str | None = None) -> Instrument:
        """An instrument by id, the latest version unless ``version`` is given (KeyError)."""
        if version is not None:
            return self.by_key[(instrument_id, version)]
        versions = [inst for (iid, _), inst in self.by_key.items() if iid == instrument_id]
        if not versions:
            raise KeyError(f"no instrument {instrument_id!r}")
        return max(versions, key=lambda inst: version_key(inst.version))

    def latest(self) -> dict[str, Instrument]:
        """The latest version of every instrument, keyed by id, sorted by id."""
        return {iid: self.get(iid) for iid in sorted({iid for iid, _ in self.by_key})}

    def versions(self, instrument_id: str) -> list[str]:
        """The versions of an instrument, oldest first."""
        return sorted((v for iid, v in self.by_key if iid == instrument_id), key=version_key)


def load_registry(extra_dirs: Sequence[str | Path] = ()) -> Registry:
    """Load the built-in instruments and those in ``extra_dirs``.

    Raises
    ------
    InstrumentError
        When a file is broken, or two files define the same ``(id, version)``.
    """
    return _registry([builtin_dir(), *[Path(d) for d in extra_dirs]])


def _registry(dirs: Iterable[Path]) -> Registry:
    by_key: dict[tuple[str, str], Instrument] = {}
    problems: list[str] = []
    for d in dirs:
        for path in instrument_files(d):
            try:
                inst = load_instrument(path)
            except InstrumentError as exc:
                problems.append(str(exc))
                continue
            if inst.key in by_key:
                problems.append(
                    f"{path}: instrument {inst.id!r} version {inst.version!r} is also defined "
                    f"in {by_key[inst.key].origin}; give it a new version"
                )
                continue
            by_key[inst.key] = inst
    if problems:
        raise InstrumentError("\n".join(problems))
    return Registry(by_key)


def load_instruments(extra_dirs: Sequence[str | Path] = ()) -> dict[str, Instrument]:
    """The latest version of every instrument (built-in and ``extra_dirs``), keyed by id.

    Use :func:`load_registry` to reach a specific ``(id, version)``.
    """
    return load_registry(extra_dirs).latest()


def scales_of(instruments: Mapping[str, Instrument]) -> dict[str, dict[str, list[str]]]:
    """Per instrument, its multi-item mean/sum scores as scales (score id -> item ids): the
    scales whose reliability the study reports."""
    out: dict[str, dict[str, list[str]]] = {}
    for inst_id, inst in instruments.items():
        scales = {
            sc.id: list(sc.items)
            for sc in inst.scores
            if str(sc.rule) in ("mean", "sum") and len(sc.items) >= 2
        }
        if scales:
            out[inst_id] = scales
    return out


def names_of(instruments: Mapping[str, Instrument], language: str) -> dict[str, str]:
    """What a person reads for instrument and score ids in ``language``: an instrument's id ->
    its title, and ``"<instrument id>/<score id>"`` -> the score's label."""
    out: dict[str, str] = {}
    for inst_id, inst in instruments.items():
        out[inst_id] = inst.title.get(language) or inst.title.get("nl") or inst_id
        for sc in inst.scores:
            out[f"{inst_id}/{sc.id}"] = sc.label.get(language) or sc.label.get("nl") or sc.id
    return out
