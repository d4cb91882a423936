"""An app serving instruments imported from a REDCap dictionary, for the form tests."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from flask import Flask

from dashboard.app import create_app
from questionnaires.model import Instrument
from questionnaires.redcap import REDCAP_HEADER_LINE, parse_redcap
from questionnaires.registry import dump_instrument
from study.clock import SimulatedClock
from tests.conftest import Database
from tests.dashboard.forms_http import container_for


def dictionary(rows: list[str]) -> str:
    """A REDCap dictionary: the header line and these rows."""
    return REDCAP_HEADER_LINE + "\n" + "\n".join(rows) + "\n"


def import_to_dir(text: str, directory: Path, **kw: object) -> list[Instrument]:
    """Import a dictionary and write its instruments where the app finds them."""
    result = parse_redcap(text, "test.csv", **kw)  # type: ignore[arg-type]
    directory.mkdir(parents=True, exist_ok=True)
    for inst in result.instruments:
        (directory / f"{inst.id}.yaml").write_text(dump_instrument(inst), encoding="utf-8")
    return result.instruments


def app_with_instruments(db: Database, clock: SimulatedClock, directory: Path) -> Flask:
    """The real app, with ``directory`` as an extra instrument folder."""
    container = container_for(db, clock)
    settings = container.settings.model_copy(update={"instrument_dirs": (directory,)})
    return create_app(dataclasses.replace(container, settings=settings))
