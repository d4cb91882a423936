"""Personal-link tokens.

A token is 256 bits: HMAC-SHA256 of a random per-invitation salt under the server's secret key. The
database stores the salt and the SHA-256 hash of the token, never the token itself; a stolen
database without the secret key yields no working link. Only the sender
re-derives the link when it needs it, so no mail body or log ever has to keep it.

After a key rotation a token made under an earlier key must still be the one a reminder carries:
:func:`stored_token` tries each key and keeps the token whose hash the database holds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")


def new_salt() -> str:
    """A fresh random salt for one invitation."""
    return secrets.token_hex(32)


def token_for(secret_key: str, invitation_id: int, salt: str) -> str:
    """The invitation's token: 43 URL-safe characters (256 bits)."""
    digest = hmac.new(
        secret_key.encode(), f"invitation:{invitation_id}:{salt}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def hash_token(token: str) -> str:
    """What the database stores to find an invitation by its token."""
    return hashlib.sha256(token.encode()).hexdigest()


def stored_token(
    secret_keys: Iterable[str], invitation_id: int, salt: str, token_hash: str | None
) -> str | None:
    """The invitation's token under whichever key made it (current key first), or None.

    None when no key gives ``token_hash``: the key that made the link is gone, and any link
    derived now would open nothing.
    """
    if not token_hash:
        return None
    for key in secret_keys:
        token = token_for(key, invitation_id, salt)
        if hmac.compare_digest(hash_token(token), token_hash):
            return token
    return None


def is_well_formed(token: str) -> bool:
    """Whether ``token`` has the shape of a token (checked before any database lookup)."""
    return bool(TOKEN_PATTERN.match(token))


def link_for(base_url: str, token: str) -> str:
    """The personal link that goes into a mail."""
    return f"{base_url.rstrip('/')}/f/{token}"
