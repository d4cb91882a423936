"""Klik: longitudinal outcome-tracking studies of job coaching.

This package is the thin entry point: the ``klik`` command line (Typer), the settings (the only
reader of the environment) and the wiring that builds engines, sessions and the app from them.
"""

__version__ = "0.1.0"
