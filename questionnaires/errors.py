"""Errors raised by the questionnaires package."""

from __future__ import annotations


class InstrumentError(ValueError):
    """An instrument file or data dictionary that cannot be used.

    The message names the file (or origin), the item and the problem, so that a researcher can
    fix the file without reading code.
    """
