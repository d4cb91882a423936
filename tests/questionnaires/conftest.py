"""Shared fixtures for the questionnaires tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from questionnaires.model import Instrument
from questionnaires.registry import load_instruments

REDCAP_DIR = Path("/work/shared/data/redcap")


@pytest.fixture(scope="session")
def instruments() -> dict[str, Instrument]:
    return load_instruments()


def minimal_instrument() -> dict:
    """A small valid instrument mapping that tests break in one place at a time."""
    return yaml.safe_load(
        """
id: mini
version: "1"
respondent: employee
title: {nl: Mini, en: Mini}
source: own
licence: own wording
option_sets:
  agree: [{code: 1, label: {nl: een, en: one}}, {code: 2, label: {nl: twee, en: two}},
          {code: 3, label: {nl: drie, en: three}}]
sections:
  - id: page
    title: {nl: Pagina, en: Page}
    items:
      - {id: a1, type: likert, options: agree, text: {nl: A1, en: A1}}
      - {id: a2, type: likert, options: agree, text: {nl: A2, en: A2}, reverse: true}
      - {id: a3, type: likert, options: agree, text: {nl: A3, en: A3}}
      - {id: note, type: text, text: {nl: Opmerking, en: Remark}}
scores:
  - id: a_mean
    label: {nl: A, en: A}
    rule: mean
    items: [a1, a2, a3]
    max_missing: 1
    scale: [1, 3]
    bands:
      - {from: 1, to: 2, label: {nl: laag, en: low}}
      - {from: 2, to: 3, label: {nl: hoog, en: high}}
"""
    )
