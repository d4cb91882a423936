"""The study's persistent secret: one file, outside the database, readable only by its owner.

The file holds one key per line, the current key first and the keys it replaced after it, so that
links and sessions made under an older key keep working after ``klik rotate-secret``. Lines that
start with ``#`` are comments. The file is never part of the database, so a copy of the database
alone opens no personal link.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

HEADER = (
    "# Klik secret: the first key signs, the keys after it are still accepted.\n"
    "# Keep this file private (mode 0600) and include it in backups.\n"
)


def new_key() -> str:
    """A fresh random key (256 bits, hex)."""
    return secrets.token_hex(32)


def read_keys(path: Path) -> list[str]:
    """The keys in ``path``, current first; empty when the file holds none."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _write_exclusive(path: Path, keys: list[str]) -> None:
    # O_EXCL: an existing file (or a concurrent writer's) is never clobbered
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, (HEADER + "".join(f"{k}\n" for k in keys)).encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def create(path: Path) -> bool:
    """Create ``path`` with a new key unless it exists; returns whether it was created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        _write_exclusive(path, [new_key()])
    except FileExistsError:
        return False
    return True


def rotate(path: Path, *, keep: int = 5) -> int:
    """Put a new current key in ``path`` and keep up to ``keep`` earlier keys after it.

    The new file is written next to the old one and moved over it in one step, so a reader sees
    either the old keys or the new ones. Returns the number of earlier keys kept.
    """
    old = read_keys(path)
    if not old:
        raise ValueError(f"{path} holds no key")
    kept = old[:keep]
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    _write_exclusive(temporary, [new_key(), *kept])
    os.replace(temporary, path)
    return len(kept)
