"""Dashboard users: creating logins with argon2 password hashes, and checking passwords."""

from __future__ import annotations

import datetime as dt
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from study import audit, throttles
from study.errors import Conflict, InvalidInput, NotFound
from study.models import Jobcoach, Study, User
from study.services.common import get_in_study, utc
from study.vocab import Role

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
MIN_PASSWORD_LENGTH = 10


def password_hasher() -> PasswordHasher:
    """The argon2id hasher with the library's recommended parameters."""
    return PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (salted; two calls give different hashes)."""
    return password_hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; False for a malformed hash."""
    try:
        return password_hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def add_user(
    session: Session,
    study_id: int,
    username: str,
    password: str,
    role: Role | str,
    jobcoach_id: int | None = None,
    *,
    display_name: str,
    actor: str,
    at: dt.datetime,
) -> User:
    """Create a dashboard login for ``study_id``.

    A jobcoach login is linked to a jobcoach of the same study (it sees only that jobcoach's
    clients); researchers and viewers are not linked to one. Usernames are lower case and unique.
    The password is stored only as an argon2id hash and never written to the audit log.
    """
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise InvalidInput(
            "gebruikersnaam: 2-80 tekens, kleine letters, cijfers, punt, streepje of liggend streepje",
            "username: 2-80 characters, lower-case letters, digits, dot, hyphen or underscore",
            field="username",
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"het wachtwoord moet minstens {MIN_PASSWORD_LENGTH} tekens hebben",
            f"the password must have at least {MIN_PASSWORD_LENGTH} characters",
            field="password",
        )
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput(
            f"rol: kies een van {', '.join(r.value for r in Role)}",
            f"role: choose one of {', '.join(r.value for r in Role)}",
            field="role",
        ) from None
    if not display_name or not display_name.strip() or len(display_name) > 200:
        raise InvalidInput(
            "geef een naam van 1 tot 200 tekens",
            "give a name of 1 to 200 characters",
            field="display_name",
        )
    get_in_study(session, Study, study_id, study_id)
    if role == Role.JOBCOACH:
        if jobcoach_id is None:
            raise InvalidInput(
                "een jobcoach-login hoort bij een jobcoach van de studie",
                "a jobcoach login belongs to a jobcoach of the study",
                field="jobcoach_id",
            )
        get_in_study(session, Jobcoach, jobcoach_id, study_id)
    elif jobcoach_id is not None:
        raise InvalidInput(
            "alleen een jobcoach-login hoort bij een jobcoach",
            "only a jobcoach login belongs to a jobcoach",
            field="jobcoach_id",
        )
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(
            f"gebruikersnaam {username} is al in gebruik",
            f"username {username} is already taken",
            field="username",
        )
    at = utc(at)
    user = User(
        study_id=study_id,
        username=username,
        display_name=display_name.strip(),
        role=role,
        jobcoach_id=jobcoach_id,
        password_hash=hash_password(password),
        active=True,
        failed_logins=0,
        created_at=at,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        at=at,
        actor=actor,
        action="create",
        entity="app_user",
        entity_id=user.id,
        new={"username": username, "role": role, "jobcoach_id": jobcoach_id},
    )
    return user


def unlock_login(
    session: Session,
    username: str,
    *,
    actor: str,
    at: dt.datetime,
    study_id: int | None = None,
) -> User:
    """Forget the failed logins counted on ``username``, so that every address may try it again.

    ``study_id`` (a researcher's own study) refuses logins of another study as if they did not
    exist. The unlock is audited with how many failure counts it removed.
    """
    name = throttles.account_key(username)
    query = select(User).where(User.username == name)
    if study_id is not None:
        query = query.where(User.study_id == study_id)
    user = session.scalar(query)
    if user is None:
        raise NotFound(f"login {name} bestaat niet", f"login {name} does not exist")
    removed = throttles.unlock_account(session, name)
    audit.record(
        session, at=utc(at), actor=actor, action="login_unlocked", entity="app_user",
        entity_id=user.id, new={"failure_counts_removed": removed},
    )  # fmt: skip
    return user
