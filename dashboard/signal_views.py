"""Pure builders of the jobcoach's signals: the caseload with traffic lights, a client's card
(signals, what each rule fired on, the course against the expected band, the checklist on red),
and the printable version to go through with the employee.

No figure or table here ranks or compares jobcoaches: every builder shows one jobcoach's own
clients, or one client.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from analysis.expected_course import ExpectedCourse
from analysis.signals import SIGNAL_LABELS, signal_key
from dashboard.i18n import fmt_date, options
from study.vocab import SignalAction

T: dict[str, dict[str, str]] = {
    "caseload": {"nl": "Mijn cliënten, meest urgent eerst", "en": "My clients, most urgent first"},
    "no_clients": {"nl": "Nog geen cliënten.", "en": "No clients yet."},
    "light_red": {"nl": "nu bespreken", "en": "discuss now"},
    "light_amber": {"nl": "aandacht", "en": "attention"},
    "light_green": {"nl": "geen signalen", "en": "no signals"},
    "light_ended": {"nl": "traject beëindigd", "en": "trajectory ended"},
    "light_grey": {
        "nl": "nog geen trend (minder dan 2 metingen)",
        "en": "no trend yet (fewer than 2 measurements)",
    },
    "seen_n": {"nl": "{n} gezien", "en": "{n} seen"},
    "signals": {"nl": "Signalen", "en": "Signals"},
    "no_signals": {"nl": "Geen signalen op dit moment.", "en": "No signals at the moment."},
    "seen": {"nl": "Gezien", "en": "Seen"},
    "seen_by": {"nl": "Gezien op {day}", "en": "Seen on {day}"},
    "mark_seen": {"nl": "Markeer als gezien", "en": "Mark as seen"},
    "action": {"nl": "Wat heeft u gedaan? (mag leeg)", "en": "What did you do? (optional)"},
    "since": {"nl": "sinds {day}", "en": "since {day}"},
    "course": {"nl": "Verloop", "en": "Course"},
    "band_median": {"nl": "verwacht (mediaan)", "en": "expected (median)"},
    "band_p25": {"nl": "25e percentiel", "en": "25th percentile"},
    "band_p10": {"nl": "10e percentiel", "en": "10th percentile"},
    "band_none": {
        "nl": "Nog geen verwacht verloop: daarvoor zijn meer metingen in de studie nodig.",
        "en": "No expected course yet: the study needs more measurements for it.",
    },
    "months": {"nl": "maanden sinds de start", "en": "months since the start"},
    "klik": {"nl": "Klik met de jobcoach (1–5)", "en": "Klik with the job coach (1–5)"},
    "capability_count": {
        "nl": "Duurzame inzetbaarheid (0–7 capabilities)",
        "en": "Sustainable employability (0–7 capabilities)",
    },
    "client_line": {"nl": "werknemer", "en": "employee"},
    "checklist": {"nl": "Bespreek bij rood", "en": "Go through on red"},
    "checklist_intro": {
        "nl": "Een signaal is een aanleiding voor een gesprek, geen oordeel. Loop samen na:",
        "en": "A signal is a reason to talk, not a verdict. Go through together:",
    },
    "print": {
        "nl": "Afdrukversie om samen door te nemen",
        "en": "Printable version to go through together",
    },
    "print_hint": {
        "nl": "Druk deze pagina af met de printfunctie van uw browser (Ctrl+P).",
        "en": "Print this page with your browser's print function (Ctrl+P).",
    },
    "notes": {"nl": "Afspraken", "en": "Agreements"},
    "contract": {
        "nl": "Einde contract of proefplaatsing",
        "en": "End of the contract or trial placement",
    },
    "contract_lead": {
        "nl": "Vul in wanneer het contract of de proefplaatsing afloopt; 8 weken vooraf volgt een signaal. Leeg laten en opslaan wist de datum.",
        "en": "Enter when the contract or trial placement ends; a signal follows 8 weeks before. Saving it empty clears the date.",
    },
    "contract_date": {"nl": "Einddatum", "en": "End date"},
    "save": {"nl": "Opslaan", "en": "Save"},
    "contract_saved": {"nl": "Einddatum opgeslagen.", "en": "End date saved."},
    "contract_cleared": {"nl": "Einddatum gewist.", "en": "End date cleared."},
    "printed_on": {"nl": "Stand op {day}", "en": "As of {day}"},
    "event_job_start": {"nl": "start baan", "en": "job start"},
    "event_job_end": {"nl": "einde baan", "en": "job end"},
    "event_hours_change": {"nl": "uren", "en": "hours"},
    "event_sick_leave_start": {"nl": "ziek", "en": "sick"},
    "event_sick_leave_end": {"nl": "hersteld", "en": "recovered"},
}

SIGNAL_NAMES = SIGNAL_LABELS

RULE_TEXTS = {
    "klik_item_drop": ("Klik-vraag van {previous} ({previous_wave}) naar {latest}: {change} punt",
                       "Klik item from {previous} ({previous_wave}) to {latest}: {change} points"),
    "alliance_mean_drop": ("Werkrelatie (gemiddelde) van {previous} ({previous_wave}) naar {latest}: {change}",
                           "Working alliance (mean) from {previous} ({previous_wave}) to {latest}: {change}"),
    "rc_alliance": ("Werkrelatie van {baseline} bij de start naar {latest}: RC = {rc} (grens −1,96; s₀ = {s0}, r = {r})",
                    "Working alliance from {baseline} at the start to {latest}: RC = {rc} (limit −1.96; s₀ = {s0}, r = {r})"),
    "rc_capability_count": ("Capabilities van {baseline} bij de start naar {latest}: RC = {rc} (grens −1,96; s₀ = {s0}, r = {r})",
                            "Capabilities from {baseline} at the start to {latest}: RC = {rc} (limit −1.96; s₀ = {s0}, r = {r})"),
    "below_cohort_p10": ("Werkrelatie {alliance}, onder het 10e percentiel van de studie bij deze meting ({cut})",
                         "Working alliance {alliance}, below the study's 10th percentile at this wave ({cut})"),
    "below_expected_p25": ("Capabilities {latest}, verwacht {expected}: onder het verwachte 25e percentiel (z = {z})",
                           "Capabilities {latest}, expected {expected}: below the expected 25th percentile (z = {z})"),
    "below_expected_p10": ("Capabilities {latest}, verwacht {expected}: onder het verwachte 10e percentiel (z = {z})",
                           "Capabilities {latest}, expected {expected}: below the expected 10th percentile (z = {z})"),
    "sick_reported": ("Ziek gemeld op {start} ({days} dagen)", "Reported sick on {start} ({days} days)"),
    "sick_long": ("Verzuim langer dan 14 dagen: {days} dagen sinds {start}", "Sick leave over 14 days: {days} days since {start}"),
    "sick_repeated": ("{spells} keer ziek binnen {months} maanden (sinds {since})",
                      "{spells} spells of sick leave within {months} months (since {since})"),
    "hours_cut": ("Contracturen van {before} naar {after} per week", "Contract hours from {before} to {after} a week"),
    "contract_ends": ("Contract eindigt op {ends_on} (nog {days_left} dagen)", "Contract ends on {ends_on} ({days_left} days left)"),
    "trial_ends": ("Proefplaatsing eindigt op {ends_on} (nog {days_left} dagen)", "Trial placement ends on {ends_on} ({days_left} days left)"),
    "missed_one": ("Een vragenlijst gemist", "One form missed"),
    "missed_in_a_row": ("{in_a_row} vragenlijsten op rij gemist", "{in_a_row} forms missed in a row"),
    "no_contact": ("{days} dagen geen contact in het eerste jaar", "{days} days without contact in the first year"),
    "above_regime": ("Jaar {year}: {coaching_hours} uur begeleiding op {worked_hours} gewerkte uren ({share}, regime {limit})",
                     "Year {year}: {coaching_hours} hours of coaching on {worked_hours} hours worked ({share}, regime {limit})"),
}  # fmt: skip

CHECKLIST = [
    ("Klik: loopt de samenwerking tussen u en de werknemer?", "Alliance: is the working relationship between you and the employee going well?"),
    ("Motivatie: wil de werknemer dit werk nog?", "Motivation: does the employee still want this work?"),
    ("Sociale steun: wie helpt thuis en op het werk?", "Social support: who helps at home and at work?"),
    ("Gebeurtenissen: is er iets veranderd in het leven van de werknemer?", "Life events: has something changed in the employee's life?"),
    ("Match: passen de taken bij wat de werknemer kan en wil?", "Match: do the tasks fit what the employee can and wants to do?"),
    ("Werkgever: hoe is de relatie met de leidinggevende en collega's?", "Employer: how is the relationship with the supervisor and colleagues?"),
    ("Uren: zijn de werktijden en het aantal uren haalbaar?", "Hours: are the working times and hours manageable?"),
    ("Reizen: is het woon-werkverkeer te doen?", "Travel: is the commute manageable?"),
]  # fmt: skip

LEVEL_ORDER = {"red": 0, "amber": 1}


def t(key: str, lang: str) -> str:
    """A text of this module in ``lang``."""
    return T[key][lang]


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if lang == "nl" else pair[1]


def _num(value: Any, lang: str, digits: int = 2) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
    return text.replace(".", ",") if lang == "nl" else text


def _pct(value: Any, lang: str) -> str:
    text = f"{100 * float(value):.1f}".rstrip("0").rstrip(".") + "%"
    return text.replace(".", ",") if lang == "nl" else text


def signal_name(signal: str, lang: str) -> str:
    """The signal's name in ``lang``."""
    return _pick(SIGNAL_NAMES.get(signal, (signal, signal)), lang)


def rule_text(rule: str, values: dict[str, Any], lang: str) -> str:
    """Which rule fired, on which values, in ``lang``."""
    template = _pick(RULE_TEXTS.get(rule, (rule, rule)), lang)
    shown: dict[str, str] = {}
    for key, value in (values or {}).items():
        if key in ("share", "limit"):
            shown[key] = _pct(value, lang)
        elif key in ("start", "ends_on", "since") and isinstance(value, str):
            shown[key] = fmt_date(pd.Timestamp(value), lang)
        else:
            shown[key] = _num(value, lang)
    try:
        return template.format(**shown)
    except KeyError:
        return template


def light_badge(light: str, lang: str) -> html.Span:
    """A traffic light with its meaning as text (colour is never the only cue)."""
    return html.Span(
        [
            html.Span(className=f"klik-light {light}", **{"aria-hidden": "true"}),
            t(f"light_{light}", lang),
        ],
        className="klik-light-label",
    )


def caseload_list(
    caseload: pd.DataFrame,
    signals: pd.DataFrame,
    codes: dict[int, str],
    lang: str,
    *,
    pick_id: str = "workspace-pick",
) -> html.Div:
    """The jobcoach's clients with a traffic light each, in the caseload's (urgency) order,
    and beside each the names of its open current signals; each is a button (id
    ``{"type": pick_id, "index": trajectory_id}``) that opens the client's card."""
    if caseload.empty:
        return html.P(t("no_clients", lang), className="klik-muted")
    current = signals[signals["current"] & ~signals["seen"]] if not signals.empty else signals
    names = (
        current.groupby("trajectory_id")["signal"].agg(lambda s: list(dict.fromkeys(s)))
        if not current.empty
        else {}
    )
    items = []
    for r in caseload.itertuples(index=False):
        tid = int(r.trajectory_id)
        which = [signal_name(s, lang) for s in names.get(tid, [])] if len(names) else []
        extra = (
            [html.Span(t("seen_n", lang).format(n=int(r.n_seen)), className="klik-muted")]
            if r.n_seen
            else []
        )
        items.append(html.Li(html.Button([
            html.Span(codes.get(tid, str(tid)), className="klik-caseload-code"),
            light_badge(str(r.light), lang),
            html.Span(", ".join(which), className="klik-caseload-signals"),
            *extra,
        ], id={"type": pick_id, "index": tid}, n_clicks=0, className="klik-caseload-pick"),
            className=f"klik-caseload-item {r.light}", **{"data-trajectory": str(tid), "data-light": str(r.light)}))  # fmt: skip
    return html.Ul(items, className="klik-caseload", id="workspace-caseload")


def client_signals(
    signals: pd.DataFrame, seen: pd.DataFrame, lang: str, *, ack_id: str, action_id: str
) -> html.Div:
    """One client's current signals, worst first, each with the rule and values it fired on;
    an unseen one offers "mark as seen" with an optional action (ids ``{"type": ack_id,
    "index": key}`` and ``{"type": action_id, "index": key}``, key = ``signal_key``)."""
    current = signals[signals["current"]] if not signals.empty else signals
    if current.empty:
        return html.P(t("no_signals", lang), className="klik-muted", id="workspace-client-signals")
    current = current.assign(_o=current["level"].map(LEVEL_ORDER)).sort_values(
        ["_o", "fired_on"], kind="stable"
    )
    keys = signal_key(current)
    seen_at = {}
    if not seen.empty:
        seen_at = dict(zip(signal_key(seen), seen["seen_at"], strict=True))
    items = []
    for key, r in zip(keys, current.itertuples(index=False), strict=True):
        head = [
            html.Span(t(f"light_{r.level}", lang), className=f"klik-badge {r.level}"),
            html.Strong(signal_name(r.signal, lang)),
            html.Span(
                t("since", lang).format(day=fmt_date(r.fired_on, lang)), className="klik-muted"
            ),
        ]
        body: list[Any] = [
            html.Div(head, className="klik-signal-head"),
            html.P(rule_text(r.rule, r.values, lang)),
        ]
        if key in seen_at:
            body.append(
                html.P(
                    t("seen_by", lang).format(day=fmt_date(seen_at[key], lang)),
                    className="klik-muted",
                )
            )
        else:
            body.append(html.Div([
                dcc.Dropdown(id={"type": action_id, "index": key}, options=options(SignalAction, lang),
                             placeholder=t("action", lang), className="klik-signal-action"),
                html.Button(t("mark_seen", lang), id={"type": ack_id, "index": key}, n_clicks=0, className="klik-secondary"),
            ], className="klik-signal-ack"))  # fmt: skip
        items.append(html.Li(body, className=f"klik-signal {r.level}", **{"data-key": key}))
    return html.Ul(items, className="klik-signals", id="workspace-client-signals")


def client_signals_print(signals: pd.DataFrame, lang: str) -> html.Div:
    """One client's current signals as plain text, worst first, for the printed page."""
    current = signals[signals["current"]] if not signals.empty else signals
    if current.empty:
        return html.P(t("no_signals", lang), id="print-signals")
    current = current.assign(_o=current["level"].map(LEVEL_ORDER)).sort_values(
        ["_o", "fired_on"], kind="stable"
    )
    items = [
        html.Li(
            [
                html.Strong(f"{signal_name(r.signal, lang)} ({t(f'light_{r.level}', lang)})"),
                " – ",
                rule_text(r.rule, r.values, lang),
                " – ",
                t("since", lang).format(day=fmt_date(r.fired_on, lang)),
            ],
            className=f"klik-signal {r.level}",
        )
        for r in current.itertuples(index=False)
    ]
    return html.Ul(items, className="klik-signals", id="print-signals")


def checklist(lang: str, *, printable: bool = False) -> html.Div:
    """The conversation checklist shown on red (OQ-ASC's domains, plus the job's own)."""
    items = [
        html.Li(
            [html.Span("☐ ", **{"aria-hidden": "true"}) if printable else None, _pick(pair, lang)]
        )
        for pair in CHECKLIST
    ]
    return html.Div([html.H3(t("checklist", lang)), html.P(t("checklist_intro", lang)), html.Ul(items)],
                    className="klik-checklist", id="workspace-checklist")  # fmt: skip


def course_figure(
    values: pd.DataFrame,
    course: ExpectedCourse | None,
    events: pd.DataFrame,
    start: pd.Timestamp,
    score: str,
    lang: str,
) -> go.Figure:
    """The employee's ``score`` over the waves (``values``: wave, months, value) against the
    expected band (median, 25th and 10th percentile given the baseline) with markers for job
    start, hours changes, sick leave and job end (``events``: event_date, kind, hours)."""
    fig = go.Figure()
    values = values.sort_values("months")
    base = values.loc[values["months"] == values["months"].min(), "value"]
    if course is not None and len(base) and len(values) > 0:
        waves = [w for w in course.wave_effects]
        band = course.band(float(base.iloc[0]), waves)
        at = values.drop_duplicates("wave").set_index("wave")["months"]
        band = (
            band[band["wave"].isin(at.index)]
            .assign(months=lambda b: b["wave"].map(at))
            .sort_values("months")
        )
        for col, dash_style, key in (
            ("median", "solid", "band_median"),
            ("p25", "dash", "band_p25"),
            ("p10", "dot", "band_p10"),
        ):
            fig.add_trace(go.Scatter(x=band["months"], y=band[col], mode="lines", name=t(key, lang),
                                     line={"color": "#2e7d32" if col == "median" else "#c62828", "dash": dash_style, "width": 1.5}))  # fmt: skip
    fig.add_trace(go.Scatter(x=values["months"], y=values["value"], mode="lines+markers", name=t("client_line", lang),
                             line={"color": "#1a1a1a", "width": 2.5}))  # fmt: skip
    for e in events.itertuples(index=False):
        key = f"event_{e.kind}"
        if key not in T:
            continue
        months = (pd.Timestamp(e.event_date) - start).days / 30.4375
        label = t(key, lang) + (
            f" {_num(e.hours, lang)}" if e.kind == "hours_change" and pd.notna(e.hours) else ""
        )
        fig.add_vline(x=months, line={"color": "#6b7280", "dash": "dot", "width": 1})
        fig.add_annotation(x=months, y=1, yref="paper", text=label, showarrow=False, textangle=-90,
                           xanchor="left", yanchor="top", font={"size": 10, "color": "#4b5563"})  # fmt: skip
    fig.update_layout(
        title={"text": t(score, lang), "font": {"size": 14}},
        height=280,
        margin={"l": 36, "r": 8, "t": 36, "b": 36},
        legend={"orientation": "h", "y": -0.25, "font": {"size": 10}},
        xaxis={"title": {"text": t("months", lang), "font": {"size": 11}}, "rangemode": "tozero"},
        yaxis={"range": [0.5, 5.5] if score == "klik" else [-0.5, 7.5]},
        plot_bgcolor="white",
    )
    return fig


def course_graphs(
    person_wave: pd.DataFrame,
    courses: dict[str, ExpectedCourse | None],
    events: pd.DataFrame,
    start: pd.Timestamp,
    lang: str,
    *,
    static: bool = False,
) -> html.Div:
    """Klik and sustainable employability of one client, each against its expected band."""
    parts: list[Any] = [html.H3(t("course", lang))]
    for score in ("klik", "capability_count"):
        own = person_wave[(person_wave["score"] == score) & person_wave["value"].notna()]
        if "anchor" in own.columns:
            own = own[own["anchor"] == "start"]
        fig = course_figure(
            own[["wave", "months", "value"]], courses.get(score), events, start, score, lang
        )
        parts.append(dcc.Graph(figure=fig, config={"displayModeBar": False, "responsive": True, "staticPlot": static},
                               className="klik-course",
                style={"width": "100%"}, id=f"workspace-course-{score}"))  # fmt: skip
        if courses.get(score) is None:
            parts.append(html.P(t("band_none", lang), className="klik-muted"))
    return html.Div(parts, className="klik-course-wrap")


def contract_form(ids: dict[str, str], lang: str) -> html.Div:
    """Record when the selected client's contract or trial placement ends (ids: date, save, msg)."""
    return html.Div(
        [
            html.H3(t("contract", lang)),
            html.P(t("contract_lead", lang), className="klik-note"),
            html.Div(
                [
                    html.Div([html.Label(t("contract_date", lang), htmlFor=ids["date"]),
                              dcc.DatePickerSingle(id=ids["date"], display_format="DD-MM-YYYY", clearable=True)]),
                    html.Button(t("save", lang), id=ids["save"], className="klik-primary", n_clicks=0),
                ],
                className="klik-form",
            ),
            html.Div(id=ids["msg"], role="status"),
        ],
        className="klik-card",
    )  # fmt: skip


def print_link(trajectory_id: int, lang: str) -> html.A:
    """The link to the printable version of one client's signals."""
    return html.A(t("print", lang), href=f"/workspace/print?client={trajectory_id}", target="_blank",
                  className="klik-print-link", id="workspace-print-link")  # fmt: skip
