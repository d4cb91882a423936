"""Failed-attempt limits for logins and personal links, shared by every web process.

The scheme follows the OWASP Authentication and Credential Stuffing Prevention cheat sheets
(account lockout section): throttle failures, do not hard-lock accounts, and make sure an
attacker's failures cannot keep the real user out.

Logins are limited on three keys, each with exponential back-off (a wait of ``base * 2**k`` after
the failures a key may make for free, capped, forgotten ``window`` after the last failure):

* **account and address together** (:data:`LOGIN_PAIR`): someone guessing one account's password
  from one address waits longer after every failure; a success clears it.
* **account** (:data:`ACCOUNT_UNDER_ATTACK` failures from any address within the window): the
  account is not locked, but every address then waits from its *first* failure on it, so a guess
  spread over many addresses is slowed while a correct password from an address that has not failed
  on the account is still checked and accepted.
* **address** (:data:`LOGIN_ADDRESS`): one address spraying passwords over many accounts waits
  longer after every failure. An address shared by many people (a municipality's NAT, a proxy)
  does not shut out its users: an account that logged in successfully from that address
  before (within :data:`FAMILIAR_FOR`) is not held back by the address's failures, only by its own.

Personal links are limited per address (:data:`LINK_ADDRESS`): only unknown links count, and a
link that belongs to an invitation is always checked and served, whatever the address's count.

Rows are deleted once their ``forget_at`` has passed, and never more than :data:`MAX_ROWS`
are kept (the rows due to be forgotten first go first), so a flood of addresses cannot grow the
table without bound. IPv6 addresses count per /64 network, which is what one client usually holds.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from study.models import FailureCount

SCOPE_PAIR = "login_pair"
SCOPE_ACCOUNT = "login_account"
SCOPE_ADDRESS = "login_address"
SCOPE_LINK = "link_address"


@dataclass(frozen=True)
class BackOff:
    """After ``free`` failures, each further failure makes the key wait ``base * 2**k`` (k = 0, 1,
    ...), at most ``cap``; a key's failures are forgotten ``window`` after its last one."""

    free: int
    base: dt.timedelta
    cap: dt.timedelta
    window: dt.timedelta

    def wait_after(self, failures: int, free: int | None = None) -> dt.timedelta | None:
        """How long to wait after the ``failures``-th failure, or None when no wait is due."""
        allowed = self.free if free is None else free
        over = failures - allowed
        if over <= 0:
            return None
        # the exponent is capped first, so a huge count never builds a huge number
        return min(self.cap, self.base * (2 ** min(over - 1, 30)))


LOGIN_PAIR = BackOff(
    free=3, base=dt.timedelta(seconds=30), cap=dt.timedelta(minutes=30),
    window=dt.timedelta(hours=24),
)  # fmt: skip
LOGIN_ADDRESS = BackOff(
    free=20, base=dt.timedelta(seconds=30), cap=dt.timedelta(minutes=30),
    window=dt.timedelta(hours=24),
)  # fmt: skip
LINK_ADDRESS = BackOff(
    free=10, base=dt.timedelta(minutes=1), cap=dt.timedelta(minutes=15),
    window=dt.timedelta(hours=1),
)  # fmt: skip
#: failures on one account (from all addresses, within ``LOGIN_PAIR.window``) after which every
#: address waits from its first failure on that account
ACCOUNT_UNDER_ATTACK = 10
#: how long a successful login keeps the account's address familiar
FAMILIAR_FOR = dt.timedelta(days=30)
#: the most rows kept
MAX_ROWS = 100_000

MAX_ACCOUNT = 80
MAX_ADDRESS = 64


def address_key(address: str | None) -> str:
    """The key an address counts under: IPv4 as it is, IPv6 per /64 network."""
    text = (address or "").strip()
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return text[:MAX_ADDRESS] or "?"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def account_key(username: str) -> str:
    """The key an account counts under: the login name as the login form normalises it."""
    return username.strip().lower()[:MAX_ACCOUNT]


def _row(session: Session, scope: str, account: str, address: str) -> FailureCount | None:
    return session.scalar(
        select(FailureCount).where(
            FailureCount.scope == scope,
            FailureCount.account == account,
            FailureCount.address == address,
        )
    )


def _locked_row(
    session: Session, scope: str, account: str, address: str, at: dt.datetime
) -> FailureCount:
    """The row of a key, created when missing, locked for this transaction."""
    values = {
        "scope": scope, "account": account, "address": address, "failures": 0,
        "forget_at": at,
    }  # fmt: skip
    dialect = session.get_bind().dialect.name
    # several processes may count the same key at once: insert-or-nothing, then lock the row
    if dialect == "postgresql":
        insert = postgresql.insert(FailureCount).values(**values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        insert = sqlite.insert(FailureCount).values(**values).on_conflict_do_nothing()
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise RuntimeError(f"no throttle storage for {dialect}")
    session.execute(insert)
    row = session.scalar(
        select(FailureCount)
        .where(
            FailureCount.scope == scope,
            FailureCount.account == account,
            FailureCount.address == address,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None
    if row.forget_at <= at:
        # a row past its time counts from zero, whether or not pruning has reached it yet
        row.failures = 0
        row.blocked_until = None
        if row.succeeded_at is not None and row.succeeded_at + FAMILIAR_FOR <= at:
            row.succeeded_at = None
    return row


def _make_room(session: Session, at: dt.datetime, rows: int) -> None:
    """Delete forgotten rows, then, over the cap, those due to be forgotten first; so that
    ``rows`` new ones still fit (made room for before they exist, so never evicted themselves)."""
    prune(session, at=at)
    count = session.scalar(select(func.count()).select_from(FailureCount)) or 0
    excess = count + rows - MAX_ROWS
    if excess > 0:
        oldest = select(FailureCount.id).order_by(FailureCount.forget_at).limit(excess)
        session.execute(delete(FailureCount).where(FailureCount.id.in_(oldest.scalar_subquery())))


def _fail(
    row: FailureCount, backoff: BackOff, at: dt.datetime, free: int | None = None
) -> dt.datetime | None:
    row.failures += 1
    row.last_failure_at = at
    wait = backoff.wait_after(row.failures, free)
    row.blocked_until = at + wait if wait is not None else None
    forget = at + backoff.window
    if row.succeeded_at is not None:
        forget = max(forget, row.succeeded_at + FAMILIAR_FOR)
    row.forget_at = forget
    return row.blocked_until


def _blocked(row: FailureCount | None, at: dt.datetime) -> dt.datetime | None:
    if row is None or row.forget_at <= at or row.blocked_until is None:
        return None
    return row.blocked_until if row.blocked_until > at else None


def _familiar(row: FailureCount | None, at: dt.datetime) -> bool:
    return row is not None and row.succeeded_at is not None and row.succeeded_at + FAMILIAR_FOR > at


def prune(session: Session, *, at: dt.datetime) -> int:
    """Delete the rows whose ``forget_at`` has passed; returns how many."""
    result = session.execute(delete(FailureCount).where(FailureCount.forget_at <= at))
    return result.rowcount or 0


# --------------------------------------------------------------------------------------------
# Logins


def login_wait(
    session: Session, username: str, address: str, *, at: dt.datetime
) -> dt.datetime | None:
    """Until when ``address`` must wait before trying ``username`` again, or None when it may now."""
    account, addr = account_key(username), address_key(address)
    pair = _row(session, SCOPE_PAIR, account, addr)
    waits = [_blocked(pair, at)]
    if not _familiar(pair, at):
        waits.append(_blocked(_row(session, SCOPE_ADDRESS, "", addr), at))
    due = [w for w in waits if w is not None]
    return max(due) if due else None


def record_login_failure(
    session: Session, username: str, address: str, *, at: dt.datetime
) -> dt.datetime | None:
    """Count a failed login (wrong password, unknown or inactive account) on all three keys.

    Returns until when this address must now wait before trying this account again, or None.
    """
    account, addr = account_key(username), address_key(address)
    _make_room(session, at, 3)
    on_account = _locked_row(session, SCOPE_ACCOUNT, account, "", at)
    # counted only: the account itself is never locked, it changes how its pairs back off
    on_account.failures += 1
    on_account.last_failure_at = at
    on_account.forget_at = at + LOGIN_PAIR.window
    under_attack = on_account.failures >= ACCOUNT_UNDER_ATTACK
    pair = _locked_row(session, SCOPE_PAIR, account, addr, at)
    pair_until = _fail(pair, LOGIN_PAIR, at, free=0 if under_attack else None)
    on_address = _locked_row(session, SCOPE_ADDRESS, "", addr, at)
    address_until = _fail(on_address, LOGIN_ADDRESS, at)
    due = [pair_until] if _familiar(pair, at) else [pair_until, address_until]
    waits = [w for w in due if w is not None]
    return max(waits) if waits else None


def record_login_success(session: Session, username: str, address: str, *, at: dt.datetime) -> None:
    """Clear the pair's failures and remember the address as familiar to the account."""
    account, addr = account_key(username), address_key(address)
    _make_room(session, at, 1)
    pair = _locked_row(session, SCOPE_PAIR, account, addr, at)
    pair.failures = 0
    pair.blocked_until = None
    pair.succeeded_at = at
    pair.forget_at = at + FAMILIAR_FOR


def unlock_account(session: Session, username: str) -> int:
    """Forget every failure counted on ``username`` (from any address); returns the rows removed.

    Familiar addresses stay familiar. The caller audits who unlocked (see
    :func:`study.services.users.unlock_login`).
    """
    account = account_key(username)
    removed = (
        session.execute(
            delete(FailureCount).where(
                FailureCount.account == account,
                FailureCount.scope.in_((SCOPE_PAIR, SCOPE_ACCOUNT)),
                FailureCount.succeeded_at.is_(None),
            )
        ).rowcount
        or 0
    )
    for row in session.scalars(
        select(FailureCount).where(
            FailureCount.account == account, FailureCount.succeeded_at.is_not(None)
        )
    ):
        if row.failures:
            removed += 1
        row.failures = 0
        row.blocked_until = None
    return removed


def account_slowed(session: Session, username: str, *, at: dt.datetime) -> bool:
    """Whether ``username`` has had so many failures that every address waits from its first."""
    row = _row(session, SCOPE_ACCOUNT, account_key(username), "")
    return row is not None and row.forget_at > at and row.failures >= ACCOUNT_UNDER_ATTACK


def account_waiting(session: Session, username: str, *, at: dt.datetime) -> bool:
    """Whether some address must wait before trying ``username`` again (or it is slowed)."""
    waiting = session.scalar(
        select(func.count())
        .select_from(FailureCount)
        .where(
            FailureCount.scope == SCOPE_PAIR,
            FailureCount.account == account_key(username),
            FailureCount.blocked_until > at,
            FailureCount.forget_at > at,
        )
    )
    return bool(waiting) or account_slowed(session, username, at=at)


# --------------------------------------------------------------------------------------------
# Personal links


def link_wait(session: Session, address: str, *, at: dt.datetime) -> dt.datetime | None:
    """Until when ``address`` gets no answer for an unknown link, or None."""
    return _blocked(_row(session, SCOPE_LINK, "", address_key(address)), at)


def record_link_failure(session: Session, address: str, *, at: dt.datetime) -> dt.datetime | None:
    """Count an unknown or malformed personal link from ``address``; returns its wait, if any."""
    _make_room(session, at, 1)
    row = _locked_row(session, SCOPE_LINK, "", address_key(address), at)
    return _fail(row, LINK_ADDRESS, at)
