"""Errors that services raise on bad input, with a message in Dutch and in English.

A service that raises leaves the database as it was: the caller's transaction rolls back.
"""

from __future__ import annotations


class KlikError(Exception):
    """A refusal a user can read and act on."""

    status = 400

    def __init__(self, nl: str, en: str, *, field: str | None = None) -> None:
        super().__init__(en)
        self.messages = {"nl": nl, "en": en}
        self.field = field

    def message(self, lang: str = "nl") -> str:
        """The message in ``lang`` (Dutch unless English is asked for)."""
        return self.messages["en" if lang == "en" else "nl"]


class InvalidInput(KlikError):
    """Input that breaks a rule of the study model (a range, a date order, a vocabulary)."""


class NotFound(KlikError):
    status = 404


class Conflict(KlikError):
    """Input that contradicts what is already stored (a duplicate code, a second open trajectory)."""

    status = 409


class ConsentWithdrawn(KlikError):
    """An action for a participant who withdrew consent."""

    status = 409


class Forbidden(KlikError):
    status = 403


class TooSoon(KlikError):
    """An action repeated faster than its limit allows (a link sent again within the hour)."""

    status = 429
