"""Use cases: the only functions that write to the database.

Each takes a ``Session`` (the caller owns the transaction), the acting user as ``actor`` and the
moment as ``at``; validates its input first; writes an audit event; and raises a
:class:`study.errors.KlikError` with a Dutch and English message on bad input.
"""

from study.services.consent import withdraw_consent
from study.services.corrections import correct_value
from study.services.enrolment import enrol_participant
from study.services.entries import delete_entry, reopen_trajectory
from study.services.link_resend import resend_link
from study.services.records import record_contact, record_employment_event
from study.services.setup import add_employer, add_jobcoach, add_organisation, create_study
from study.services.trajectories import end_trajectory, start_trajectory

__all__ = [
    "add_employer",
    "add_jobcoach",
    "add_organisation",
    "correct_value",
    "create_study",
    "delete_entry",
    "end_trajectory",
    "enrol_participant",
    "record_contact",
    "record_employment_event",
    "reopen_trajectory",
    "resend_link",
    "start_trajectory",
    "withdraw_consent",
]
