"""Pure builders for enrolling a client and for ending a trajectory or a consent in the workspace."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from dash import dcc, html

from dashboard.i18n import options
from study.vocab import Benefit, EmploymentForm, EndReason, Funder, Gender, Method

T = {
    "enrol": {"nl": "Nieuwe cliënt aanmelden", "en": "Enrol a new client"},
    "enrol_lead": {
        "nl": "Deelnemer, werkgever en traject worden in één keer vastgelegd; bij een fout wordt "
        "niets opgeslagen.",
        "en": "Participant, employer and trajectory are recorded in one go; if anything is "
        "refused, nothing is saved.",
    },
    "participant": {"nl": "Deelnemer (pseudoniem)", "en": "Participant (pseudonymous)"},
    "study_code": {"nl": "Studiecode", "en": "Study code"},
    "birth_year": {"nl": "Geboortejaar", "en": "Birth year"},
    "gender": {"nl": "Gender", "en": "Gender"},
    "benefit": {"nl": "Uitkering", "en": "Benefit"},
    "doelgroepregister": {"nl": "Doelgroepregister", "en": "Target group register"},
    "yes": {"nl": "Ja", "en": "Yes"},
    "no": {"nl": "Nee", "en": "No"},
    "email": {
        "nl": "E-mail voor de persoonlijke links (apart bewaard)",
        "en": "E-mail for the personal links (kept apart)",
    },
    "employer": {"nl": "Werkgever", "en": "Employer"},
    "existing_employer": {"nl": "Bestaande werkgever", "en": "Existing employer"},
    "choose_employer": {"nl": "Kies, of vul hiernaast een nieuwe in", "en": "Choose, or add one"},
    "new_employer": {"nl": "Of: naam nieuwe werkgever", "en": "Or: name of a new employer"},
    "contact_name": {"nl": "Contactpersoon", "en": "Contact person"},
    "contact_email": {"nl": "E-mail contactpersoon", "en": "Contact's e-mail"},
    "trajectory": {"nl": "Traject", "en": "Trajectory"},
    "coach": {"nl": "Jobcoach", "en": "Job coach"},
    "choose_coach": {"nl": "Kies een jobcoach", "en": "Choose a job coach"},
    "start_date": {"nl": "Startdatum", "en": "Start date"},
    "funder": {"nl": "Financier", "en": "Funder"},
    "employment_form": {"nl": "Dienstverband", "en": "Employment form"},
    "contract_hours": {"nl": "Contracturen per week", "en": "Contract hours per week"},
    "loonwaarde": {"nl": "Loonwaarde (%)", "en": "Wage value (%)"},
    "maatje": {"nl": "Maatje op het werk", "en": "Buddy colleague"},
    "method": {"nl": "Methodiek", "en": "Method"},
    "method_default": {"nl": "Zoals de jobcoach werkt", "en": "The job coach's usual"},
    "consent": {
        "nl": "Toestemming gegeven (versie {version})",
        "en": "Consent given (version {version})",
    },
    "submit_enrol": {"nl": "Aanmelden", "en": "Enrol"},
    "enrolled": {
        "nl": "{code} is aangemeld en het traject is gestart; kies de cliënt hierboven.",
        "en": "{code} is enrolled and the trajectory has started; choose the client above.",
    },
    "no_consent": {
        "nl": "Vink aan dat de cliënt toestemming heeft gegeven.",
        "en": "Tick that the client has given consent.",
    },
    "employer_missing": {
        "nl": "Kies een bestaande werkgever of vul de naam van een nieuwe in.",
        "en": "Choose an existing employer or enter the name of a new one.",
    },
    "employer_both": {
        "nl": "Kies een bestaande werkgever óf vul een nieuwe in, niet allebei.",
        "en": "Choose an existing employer or enter a new one, not both.",
    },
    "coach_missing": {"nl": "Kies de jobcoach.", "en": "Choose the job coach."},
    "end": {"nl": "Traject beëindigen", "en": "End the trajectory"},
    "end_date": {"nl": "Einddatum", "en": "End date"},
    "end_reason": {"nl": "Reden van beëindiging", "en": "End reason"},
    "ended": {"nl": "Het traject is beëindigd.", "en": "The trajectory has ended."},
    "end_confirm": {
        "nl": "Weet u zeker dat u dit traject wilt beëindigen? Vragenlijsten na de einddatum "
        "worden geannuleerd. Alleen een onderzoeker kan dit terugdraaien.",
        "en": "Are you sure you want to end this trajectory? Forms after the end date are "
        "cancelled. Only a researcher can undo this.",
    },
    "withdraw": {"nl": "Toestemming ingetrokken", "en": "Consent withdrawn"},
    "withdraw_lead": {
        "nl": "Stopt meteen alle toekomstige vragenlijsten en mails; gegeven antwoorden blijven.",
        "en": "Stops all future forms and mail at once; answers already given are kept.",
    },
    "withdraw_reason": {"nl": "Reden (als de cliënt die geeft)", "en": "Reason (if given)"},
    "withdraw_button": {"nl": "Intrekking vastleggen", "en": "Record the withdrawal"},
    "withdraw_confirm": {
        "nl": "Weet u zeker dat deze cliënt de toestemming heeft ingetrokken? Dit stopt alle "
        "vragenlijsten en kan niet ongedaan worden gemaakt.",
        "en": "Are you sure this client withdrew consent? This stops all forms and cannot be "
        "undone.",
    },
    "withdrawn": {
        "nl": "De intrekking is vastgelegd; {n} vragenlijst(en) geannuleerd.",
        "en": "The withdrawal is recorded; {n} form(s) cancelled.",
    },
    "choose_client_first": {"nl": "Kies eerst een cliënt.", "en": "Choose a client first."},
}


def tx(key: str, lang: str, **values: object) -> str:
    """The text ``key`` in ``lang``, with ``values`` filled in."""
    text = T[key]["en" if lang == "en" else "nl"]
    return text.format(**values) if values else text


def _field(label: str, control: object, control_id: str | None = None) -> html.Div:
    return html.Div([html.Label(label, htmlFor=control_id), control])


def _yes_no(component_id: str, lang: str, value: bool | None = None) -> dcc.RadioItems:
    return dcc.RadioItems(
        id=component_id,
        options=[
            {"label": tx("yes", lang), "value": True},
            {"label": tx("no", lang), "value": False},
        ],
        value=value,
        inline=True,
        className="klik-radio",
    )


def enrol_form(
    ids: dict[str, str],
    lang: str,
    today: dt.date,
    *,
    suggested_code: str,
    consent_version: str,
    employers: pd.DataFrame,
    coaches: pd.DataFrame | None,
) -> html.Div:
    """The enrolment form: participant, employer (existing or new) and trajectory in one.

    ``coaches`` (jobcoach_id, code, name) gives a researcher a coach picker; a jobcoach gets none,
    because they always enrol for themselves. ``employers`` has employer_id and name.
    """
    coach_field: object = dcc.Store(id=ids["coach"], data=None)
    if coaches is not None:
        coach_field = _field(
            tx("coach", lang),
            dcc.Dropdown(
                id=ids["coach"],
                options=[{"label": f"{r.code} – {r.name}", "value": int(r.jobcoach_id)} for r in coaches.itertuples(index=False)],
                placeholder=tx("choose_coach", lang),
            ),
            ids["coach"],
        )  # fmt: skip
    employer_options = [
        {"label": r.name, "value": int(r.employer_id)} for r in employers.itertuples(index=False)
    ]
    return html.Div(
        [
            html.H2(tx("enrol", lang)),
            html.P(tx("enrol_lead", lang), className="klik-note"),
            html.H3(tx("participant", lang)),
            html.Div(
                [
                    _field(tx("study_code", lang), dcc.Input(id=ids["code"], type="text", value=suggested_code, maxLength=40), ids["code"]),
                    _field(tx("birth_year", lang), dcc.Input(id=ids["birth_year"], type="number", min=1940, max=today.year - 14, step=1), ids["birth_year"]),
                    _field(tx("gender", lang), dcc.Dropdown(id=ids["gender"], options=options(Gender, lang)), ids["gender"]),
                    _field(tx("benefit", lang), dcc.Dropdown(id=ids["benefit"], options=options(Benefit, lang)), ids["benefit"]),
                    _field(tx("doelgroepregister", lang), _yes_no(ids["register"], lang)),
                    _field(tx("email", lang), dcc.Input(id=ids["email"], type="email", maxLength=254), ids["email"]),
                ],
                className="klik-form",
            ),
            html.H3(tx("employer", lang)),
            html.Div(
                [
                    _field(tx("existing_employer", lang), dcc.Dropdown(id=ids["employer"], options=employer_options, placeholder=tx("choose_employer", lang)), ids["employer"]),
                    _field(tx("new_employer", lang), dcc.Input(id=ids["employer_name"], type="text", maxLength=200), ids["employer_name"]),
                    _field(tx("contact_name", lang), dcc.Input(id=ids["contact_name"], type="text", maxLength=200), ids["contact_name"]),
                    _field(tx("contact_email", lang), dcc.Input(id=ids["contact_email"], type="email", maxLength=254), ids["contact_email"]),
                ],
                className="klik-form",
            ),
            html.H3(tx("trajectory", lang)),
            html.Div(
                [
                    coach_field,
                    _field(tx("start_date", lang), dcc.DatePickerSingle(id=ids["start"], date=today.isoformat(), display_format="DD-MM-YYYY")),
                    _field(tx("funder", lang), dcc.Dropdown(id=ids["funder"], options=options(Funder, lang)), ids["funder"]),
                    _field(tx("employment_form", lang), dcc.Dropdown(id=ids["form"], options=options(EmploymentForm, lang)), ids["form"]),
                    _field(tx("contract_hours", lang), dcc.Input(id=ids["hours"], type="number", min=0, max=60), ids["hours"]),
                    _field(tx("loonwaarde", lang), dcc.Input(id=ids["loonwaarde"], type="number", min=0, max=100), ids["loonwaarde"]),
                    _field(tx("maatje", lang), _yes_no(ids["maatje"], lang, value=False)),
                    _field(tx("method", lang), dcc.Dropdown(id=ids["method"], options=options(Method, lang), placeholder=tx("method_default", lang)), ids["method"]),
                ],
                className="klik-form",
            ),
            html.Div(
                [
                    dcc.Checklist(id=ids["consent"], options=[{"label": " " + tx("consent", lang, version=consent_version), "value": "given"}], value=[], className="klik-consent"),
                    html.Button(tx("submit_enrol", lang), id=ids["save"], className="klik-primary", n_clicks=0),
                ],
                className="klik-form-actions",
            ),
            html.Div(id=ids["msg"], role="status"),
        ],
        className="klik-card",
        id="workspace-enrol",
    )  # fmt: skip


def end_form(ids: dict[str, str], lang: str, today: dt.date) -> html.Div:
    """End the selected client's trajectory, after a confirmation (ids: date, reason, confirm,
    save, msg); a researcher can undo it on the record page."""
    return html.Div(
        [
            html.H3(tx("end", lang)),
            html.Div(
                [
                    _field(tx("end_date", lang), dcc.DatePickerSingle(id=ids["date"], date=today.isoformat(), display_format="DD-MM-YYYY")),
                    _field(tx("end_reason", lang), dcc.Dropdown(id=ids["reason"], options=options(EndReason, lang)), ids["reason"]),
                    dcc.ConfirmDialogProvider(
                        html.Button(tx("end", lang), id=ids["save"], className="klik-primary", n_clicks=0),
                        id=ids["confirm"],
                        message=tx("end_confirm", lang),
                    ),
                ],
                className="klik-form",
            ),
            html.Div(id=ids["msg"], role="status"),
        ],
        className="klik-card",
    )  # fmt: skip


def withdraw_form(ids: dict[str, str], lang: str) -> html.Div:
    """Record that the selected client withdrew consent, after a confirmation (ids: reason,
    confirm, save, msg)."""
    return html.Div(
        [
            html.H3(tx("withdraw", lang)),
            html.P(tx("withdraw_lead", lang), className="klik-note"),
            html.Div(
                [
                    _field(tx("withdraw_reason", lang), dcc.Input(id=ids["reason"], type="text"), ids["reason"]),
                    dcc.ConfirmDialogProvider(
                        html.Button(tx("withdraw_button", lang), id=ids["save"], className="klik-danger", n_clicks=0),
                        id=ids["confirm"],
                        message=tx("withdraw_confirm", lang),
                    ),
                ],
                className="klik-form",
            ),
            html.Div(id=ids["msg"], role="status"),
        ],
        className="klik-card",
    )  # fmt: skip
