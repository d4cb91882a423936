"""The form session: which invitation a browser is answering, where it is, and its CSRF value.

It lives in a short-lived, signed, HttpOnly, SameSite=Strict cookie, so the personal-link token is
needed only once per visit and never travels again. The signature uses the server's secret key and
the clock the application runs on, so a simulated clock also ages form sessions.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer

from study.clock import Clock

#: idle lifetime of a form session; every page renews it
FORM_SESSION_SECONDS = 2 * 60 * 60
#: how much of the token hash a session is bound to: a new or revoked link ends old sessions
BOUND_HASH_CHARS = 16


@dataclass(frozen=True)
class FormState:
    """Where one browser is in one form.

    ``section`` is an index into the instrument's sections; ``len(sections)`` is the review page.
    ``bound_hash`` is the start of the invitation's token hash when the session came from a personal
    link (None for a logged-in jobcoach).
    """

    invitation_id: int
    section: int
    lang: str
    csrf: str
    bound_hash: str | None = None

    @classmethod
    def start(
        cls, invitation_id: int, section: int, *, lang: str = "nl", token_hash: str | None = None
    ) -> FormState:
        """A fresh session with a new CSRF value."""
        return cls(
            invitation_id=invitation_id,
            section=section,
            lang=lang,
            csrf=secrets.token_urlsafe(24),
            bound_hash=token_hash[:BOUND_HASH_CHARS] if token_hash else None,
        )

    def at(self, section: int) -> FormState:
        return replace(self, section=section)

    def speaking(self, lang: str) -> FormState:
        return replace(self, lang=lang)

    def matches(self, token_hash: str | None) -> bool:
        """Whether the invitation's current token is the one this session was opened with."""
        if self.bound_hash is None:
            return True
        return token_hash is not None and token_hash.startswith(self.bound_hash)


class _ClockSigner(TimestampSigner):
    clock: Clock

    def get_timestamp(self) -> int:
        return int(self.clock.now().timestamp())


class FormSessionCodec:
    """Signs form states into cookie values and reads them back (None when absent, forged or old)."""

    def __init__(
        self, secret_key: str | Sequence[str], clock: Clock, *, salt: str = "klik.form-session"
    ) -> None:
        """``secret_key`` is one key or several, current first; earlier ones still verify."""
        signer = type("Signer", (_ClockSigner,), {"clock": clock})
        keys = [secret_key] if isinstance(secret_key, str) else list(secret_key)
        # itsdangerous signs with the last key of its list and verifies with all of them
        self._serializer = URLSafeTimedSerializer(keys[::-1], salt=salt, signer=signer)

    def dumps(self, state: FormState) -> str:
        return self._serializer.dumps(asdict(state))

    def loads(self, value: str | None, max_age: int = FORM_SESSION_SECONDS) -> FormState | None:
        if not value:
            return None
        try:
            data: Any = self._serializer.loads(value, max_age=max_age)
            return FormState(
                invitation_id=int(data["invitation_id"]),
                section=int(data["section"]),
                lang="en" if data["lang"] == "en" else "nl",
                csrf=str(data["csrf"]),
                bound_hash=data.get("bound_hash"),
            )
        except (BadSignature, KeyError, TypeError, ValueError):
            return None
