"""Klik: longitudinal outcome-tracking studies of job coaching."""

__version__ = "0.1.0"
