"""Scheduling of waves.

- :mod:`study.scheduling.plan`: due dates as pure calendar arithmetic (Europe/Amsterdam dates).
- :mod:`study.scheduling.sqldates`: the same arithmetic compiled for SQLite and PostgreSQL.
- :mod:`study.scheduling.tick`: one set-based tick (create, open, remind, expire, cancel, mail).
- :mod:`study.scheduling.lease`: one ticking scheduler (advisory lock, lease row).
- :mod:`study.scheduling.runner`: APScheduler 3 jobs, in ``klik serve`` or in ``klik scheduler``.
"""
