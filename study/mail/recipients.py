"""Where an invitation's mail goes: the current address of its respondent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, null

from study.models import Employer, Invitation, Jobcoach, ParticipantIdentity
from study.vocab import Respondent


def recipient_address() -> Any:
    """The address of an invitation's respondent, as a column expression.

    Needs ``ParticipantIdentity``, ``Jobcoach`` and ``Employer`` joined (outer) to the
    invitation's trajectory; NULL when no address is known.
    """
    return case(
        (Invitation.respondent == Respondent.EMPLOYEE, ParticipantIdentity.email),
        (Invitation.respondent == Respondent.JOBCOACH, Jobcoach.email),
        (Invitation.respondent == Respondent.EMPLOYER, Employer.contact_email),
        else_=null(),
    )
