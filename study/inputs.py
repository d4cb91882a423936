"""Input models of the services (pydantic), and their errors translated for users.

Every service validates its input here first, so nothing is written when the input is bad.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from study import vocab
from study.errors import InvalidInput

Code = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40, pattern=r"^[\w.-]+$")
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Email = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.\w+$")
]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class EnrolmentInput(Input):
    study_code: Code
    birth_year: int = Field(ge=1940, le=2015)
    gender: vocab.Gender
    benefit: vocab.Benefit
    doelgroepregister: bool
    consent_version: str | None = None
    name: Name | None = None
    email: Email | None = None
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None


class JobcoachInput(Input):
    code: Code
    name: Name
    email: Email | None = None
    organisation_id: int | None = None
    coach_type: vocab.CoachType
    method: vocab.Method
    education: Annotated[str, StringConstraints(max_length=100)] | None = None
    years_experience: int | None = Field(default=None, ge=0, le=60)
    registered: bool = False


class EmployerInput(Input):
    name: Name
    sector: Annotated[str, StringConstraints(max_length=100)] | None = None
    organisation_id: int | None = None
    contact_name: Name | None = None
    contact_email: Email | None = None


class OrganisationInput(Input):
    name: Name
    kind: vocab.OrganisationKind


class TrajectoryInput(Input):
    participant_id: int
    jobcoach_id: int
    employer_id: int
    start_date: dt.date
    funder: vocab.Funder
    employment_form: vocab.EmploymentForm
    contract_hours: float = Field(ge=0, le=60)
    loonwaarde: float | None = Field(default=None, ge=0, le=100)
    maatje: bool
    method: vocab.Method
    coach_type: vocab.CoachType


class TrajectoryEndInput(Input):
    end_date: dt.date
    end_reason: vocab.EndReason


class ContactInput(Input):
    contact_date: dt.date
    minutes: int = Field(gt=0, le=1440)
    mode: vocab.ContactMode
    with_whom: vocab.ContactWith
    activity: vocab.Activity
    note: Annotated[str, StringConstraints(max_length=2000)] | None = None


class EmploymentEventInput(Input):
    event_date: dt.date
    kind: vocab.EventKind
    hours: float | None = Field(default=None, ge=0, le=60)
    job_end_reason: vocab.JobEndReason | None = None
    note: Annotated[str, StringConstraints(max_length=2000)] | None = None


FIELD_LABELS: dict[str, tuple[str, str]] = {
    "study_code": ("studiecode", "study code"),
    "birth_year": ("geboortejaar", "birth year"),
    "gender": ("gender", "gender"),
    "benefit": ("uitkering", "benefit"),
    "doelgroepregister": ("doelgroepregister", "target group register"),
    "email": ("e-mailadres", "e-mail address"),
    "contact_email": ("e-mailadres contactpersoon", "contact's e-mail address"),
    "name": ("naam", "name"),
    "code": ("code", "code"),
    "coach_type": ("interne/externe jobcoach", "internal/external job coach"),
    "method": ("methodiek", "method"),
    "years_experience": ("jaren ervaring", "years of experience"),
    "start_date": ("startdatum", "start date"),
    "end_date": ("einddatum", "end date"),
    "end_reason": ("reden van beëindiging", "end reason"),
    "funder": ("financier", "funder"),
    "employment_form": ("dienstverband", "employment form"),
    "contract_hours": ("contracturen per week", "contract hours per week"),
    "loonwaarde": ("loonwaarde (%)", "wage value (%)"),
    "maatje": ("maatje", "buddy colleague"),
    "contact_date": ("datum contact", "contact date"),
    "minutes": ("minuten", "minutes"),
    "mode": ("contactvorm", "mode of contact"),
    "with_whom": ("met wie", "with whom"),
    "activity": ("activiteit", "activity"),
    "event_date": ("datum", "date"),
    "kind": ("soort gebeurtenis", "kind of event"),
    "hours": ("uren", "hours"),
    "job_end_reason": ("reden einde baan", "reason the job ended"),
    "note": ("notitie", "note"),
    "reason": ("reden", "reason"),
}

M = TypeVar("M", bound=Input)


def parse(model: type[M], data: M | dict[str, Any]) -> M:
    """Validate ``data`` as ``model``; raise :class:`InvalidInput` with a readable message."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise translate(exc) from None


def translate(exc: ValidationError) -> InvalidInput:
    """The first problem of a pydantic error, as a Dutch and English sentence naming the field."""
    err = exc.errors()[0]
    field = str(err["loc"][0]) if err["loc"] else ""
    nl_label, en_label = FIELD_LABELS.get(field, (field, field))
    kind, ctx = err["type"], err.get("ctx", {})
    if kind == "missing":
        nl, en = f"{nl_label} ontbreekt", f"{en_label} is missing"
    elif kind == "extra_forbidden":
        nl, en = f"onbekend veld: {field}", f"unknown field: {field}"
    elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = next(iter(ctx.values()))
        word_nl, word_en = {
            "greater_than_equal": ("minstens", "at least"),
            "greater_than": ("meer dan", "more than"),
            "less_than_equal": ("hoogstens", "at most"),
            "less_than": ("minder dan", "less than"),
        }[kind]
        nl, en = f"{nl_label} moet {word_nl} {bound} zijn", f"{en_label} must be {word_en} {bound}"
    elif kind == "enum":
        nl = f"{nl_label}: kies een van {ctx.get('expected', '')}"
        en = f"{en_label}: choose one of {ctx.get('expected', '')}"
    elif kind.startswith("date"):
        nl, en = f"{nl_label} is geen geldige datum", f"{en_label} is not a valid date"
    elif kind == "string_pattern_mismatch":
        nl, en = f"{nl_label} heeft een ongeldige vorm", f"{en_label} is not in a valid form"
    elif kind == "string_too_long":
        # the whole text is refused, never cut: the writer decides what to leave out
        limit, given = ctx.get("max_length"), len(str(err.get("input", "")))
        nl = f"{nl_label} is te lang: {given} tekens, hoogstens {limit} toegestaan"
        en = f"{en_label} is too long: {given} characters, at most {limit} allowed"
    elif kind == "string_too_short":
        nl, en = f"{nl_label} is te kort of leeg", f"{en_label} is too short or empty"
    else:
        nl, en = f"{nl_label} is ongeldig", f"{en_label} is invalid"
    return InvalidInput(nl, en, field=field or None)
