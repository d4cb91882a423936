"""Exports (placeholder while the builders are written)."""

from __future__ import annotations

from flask import Flask


def init_routes(server: Flask) -> None:
    """Install ``/export/<kind>``."""
