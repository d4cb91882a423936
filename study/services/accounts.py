"""Managing dashboard logins after they exist: disable or enable, change role or jobcoach, and a
one-time link to set a new password. Every change is audited; a change that alters what a login
may see ends its open sessions."""

from __future__ import annotations

import datetime as dt
import hashlib

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from study import audit
from study.errors import Forbidden, InvalidInput, NotFound
from study.models import Jobcoach, User, UserSession
from study.services.common import utc
from study.services.users import MIN_PASSWORD_LENGTH, hash_password
from study.vocab import Role

#: how long a password link stays valid
RESET_LIFETIME = dt.timedelta(hours=48)
_SALT = "klik-password-reset"


def _user(session: Session, study_id: int, username: str) -> User:
    user = session.scalar(
        select(User).where(User.study_id == study_id, User.username == username.strip().lower())
    )
    if user is None:
        raise NotFound(f"login {username} bestaat niet", f"login {username} does not exist")
    return user


def _end_sessions(session: Session, user_id: int, at: dt.datetime) -> int:
    return session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=at)
    ).rowcount


def set_active(
    session: Session, study_id: int, username: str, active: bool, *, actor: str, at: dt.datetime
) -> User:
    """Disable (``active=False``: its sessions end at once) or enable a login. A user cannot
    disable their own login."""
    at = utc(at)
    user = _user(session, study_id, username)
    if not active and user.username == actor:
        raise InvalidInput("u kunt uw eigen login niet uitschakelen", "you cannot disable your own login")  # fmt: skip
    old = user.active
    user.active = active
    ended = _end_sessions(session, user.id, at) if not active else 0
    audit.record(
        session, at=at, actor=actor, action="login_enabled" if active else "login_disabled",
        entity="app_user", entity_id=user.id, old={"active": old},
        new={"active": active, "sessions_ended": ended},
    )  # fmt: skip
    return user


def change_role(
    session: Session,
    study_id: int,
    username: str,
    role: Role | str,
    jobcoach_code: str | None = None,
    *,
    actor: str,
    at: dt.datetime,
) -> User:
    """Give a login another role (and, for a jobcoach, the jobcoach of the study it belongs to).

    Its open sessions end, so that it sees only what the new role may from its next login.
    """
    at = utc(at)
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput(f"rol: kies een van {', '.join(r.value for r in Role)}", f"role: choose one of {', '.join(r.value for r in Role)}", field="role") from None  # fmt: skip
    user = _user(session, study_id, username)
    if user.username == actor and role != user.role:
        raise InvalidInput("u kunt uw eigen rol niet wijzigen", "you cannot change your own role")
    jobcoach_id = None
    if role == Role.JOBCOACH:
        if not jobcoach_code:
            raise InvalidInput("kies de jobcoach bij deze login", "choose the job coach of this login", field="jobcoach")  # fmt: skip
        jobcoach_id = session.scalar(select(Jobcoach.id).where(Jobcoach.study_id == study_id, Jobcoach.code == jobcoach_code))  # fmt: skip
        if jobcoach_id is None:
            raise NotFound(f"jobcoach {jobcoach_code} bestaat niet in deze studie", f"job coach {jobcoach_code} does not exist in this study", field="jobcoach")  # fmt: skip
    old = {"role": user.role, "jobcoach_id": user.jobcoach_id}
    user.role, user.jobcoach_id = role, jobcoach_id
    session.flush()
    ended = _end_sessions(session, user.id, at)
    audit.record(
        session, at=at, actor=actor, action="role_changed", entity="app_user", entity_id=user.id,
        old=old, new={"role": role, "jobcoach_id": jobcoach_id, "sessions_ended": ended},
    )  # fmt: skip
    return user


def _fingerprint(password_hash: str) -> str:
    # the link names the password it replaces: once that changes, the link is spent
    return hashlib.sha256(password_hash.encode()).hexdigest()[:24]


def reset_link_token(
    session: Session, study_id: int, username: str, secret_key: str, *, actor: str, at: dt.datetime
) -> str:
    """A token for a one-time link that lets ``username`` set a new password (48 hours).

    The token is signed with the server's key and names the current password hash, so it works
    once: setting a password changes the hash. Issuing it is audited (without the token).
    """
    user = _user(session, study_id, username)
    token = URLSafeTimedSerializer(secret_key, salt=_SALT).dumps(
        {"u": user.id, "p": _fingerprint(user.password_hash)}
    )
    audit.record(
        session, at=utc(at), actor=actor, action="password_link_issued", entity="app_user",
        entity_id=user.id, new={"valid_hours": int(RESET_LIFETIME.total_seconds() // 3600)},
    )  # fmt: skip
    return token


def user_of_token(
    session: Session, token: str, secret_keys: tuple[str, ...], *, at: dt.datetime
) -> User:
    """The active login a password link is for; refused when it is malformed, expired or spent."""
    serializer = URLSafeTimedSerializer(list(secret_keys), salt=_SALT)
    try:
        data, signed_at = serializer.loads(token, return_timestamp=True)
    except (BadSignature, SignatureExpired):
        raise Forbidden("deze link is ongeldig of verlopen", "this link is invalid or has expired") from None  # fmt: skip
    if utc(at) - signed_at.astimezone(dt.UTC) > RESET_LIFETIME:
        raise Forbidden("deze link is verlopen", "this link has expired")
    user = session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or not user.active or data.get("p") != _fingerprint(user.password_hash):
        raise Forbidden("deze link is al gebruikt of ongeldig", "this link was already used or is invalid")  # fmt: skip
    return user


def set_password_with_token(
    session: Session, token: str, password: str, secret_keys: tuple[str, ...], *, at: dt.datetime
) -> User:
    """Set a new password through a one-time link; its other sessions end."""
    at = utc(at)
    user = user_of_token(session, token, secret_keys, at=at)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"het wachtwoord moet minstens {MIN_PASSWORD_LENGTH} tekens hebben", f"the password must have at least {MIN_PASSWORD_LENGTH} characters", field="password")  # fmt: skip
    user.password_hash = hash_password(password)
    ended = _end_sessions(session, user.id, at)
    audit.record(
        session, at=at, actor=user.username, action="password_set", entity="app_user",
        entity_id=user.id, new={"sessions_ended": ended},
    )  # fmt: skip
    return user
