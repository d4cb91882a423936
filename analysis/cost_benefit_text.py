"""The cost–benefit analysis in words: labels and tables as text, Dutch first and English second.

Used by the dashboard page and the HTML report, so both word and round the numbers alike.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = [
    "ACTOR_LABELS",
    "FACTOR_LABELS",
    "ITEM_LABELS",
    "OUTCOME_LABELS",
    "QUANTITY_LABELS",
    "TEXT",
    "balance_table",
    "costs_outcomes_table",
    "dose_table",
    "figures_table",
    "money",
    "number",
    "t",
]

Texts = dict[str, str]

ACTOR_LABELS: dict[str, Texts] = {
    "employee": {"nl": "werknemer", "en": "employee"},
    "employer": {"nl": "werkgever", "en": "employer"},
    "municipality": {"nl": "gemeente", "en": "municipality"},
    "uwv": {"nl": "UWV", "en": "UWV"},
    "society": {"nl": "maatschappij", "en": "society"},
}

ITEM_LABELS: dict[str, Texts] = {
    "coaching_external": {
        "nl": "Externe jobcoaching (uren × tarief)",
        "en": "External coaching (hours × tariff)",
    },
    "coaching_internal": {"nl": "Interne jobcoach (uren)", "en": "Internal jobcoach (hours)"},
    "internal_subsidy": {"nl": "Subsidie interne jobcoach", "en": "Internal-jobcoach subsidy"},
    "production": {"nl": "Productie (uren × loonwaarde)", "en": "Production (hours × wage value)"},
    "sick_leave": {"nl": "Verzuim (productieverlies)", "en": "Sickness absence (lost production)"},
    "wages": {"nl": "Loon", "en": "Wages"},
    "employer_costs": {"nl": "Werkgeverslasten (premies)", "en": "Employer costs (premiums)"},
    "benefits": {"nl": "Uitkering (vermeden)", "en": "Benefit (avoided)"},
    "lks": {"nl": "Loonkostensubsidie", "en": "Wage-cost subsidy (LKS)"},
    "noriskpolis": {"nl": "No-riskpolis (Ziektewet)", "en": "No-risk policy (sickness benefit)"},
    "leisure": {"nl": "Vrije tijd (opgegeven)", "en": "Leisure (given up)"},
}

FACTOR_LABELS: dict[str, Texts] = {
    "tariff": {"nl": "tarief jobcoach", "en": "jobcoach tariff"},
    "effect": {"nl": "effectgrootte", "en": "effect size"},
    "loonwaarde": {"nl": "loonwaarde", "en": "wage value"},
    "duration": {"nl": "duur van het effect", "en": "duration of the effect"},
    "discount_rate": {"nl": "discontovoet", "en": "discount rate"},
}

QUANTITY_LABELS: dict[str, Texts] = {
    "npv": {
        "nl": "Netto contante waarde per deelnemer (€)",
        "en": "Net present value per participant (€)",
    },
    "benefit_cost_ratio": {"nl": "Baten/kosten-verhouding", "en": "Benefit–cost ratio"},
    "costs": {
        "nl": "Kosten jobcoaching per deelnemer (€)",
        "en": "Coaching costs per participant (€)",
    },
    "days_gained": {
        "nl": "Dagen werk gewonnen per deelnemer",
        "en": "Days in work gained per participant",
    },
    "sick_days_fewer": {
        "nl": "Verzuimdagen minder per deelnemer",
        "en": "Sick days fewer per participant",
    },
    "break_even_days": {
        "nl": "Break-even: dagen werk die de kosten terugverdienen",
        "en": "Break-even: days in work that pay back the costs",
    },
    "break_even_sick_days": {
        "nl": "Break-even: verzuimdagen minder die de kosten terugverdienen",
        "en": "Break-even: fewer sick days that pay back the costs",
    },
}

TEXT: dict[str, Texts] = {
    "item": {"nl": "Post", "en": "Item"},
    "kind": {"nl": "Soort", "en": "Kind"},
    "transfer": {"nl": "overdracht", "en": "transfer"},
    "welfare": {"nl": "welvaart", "en": "welfare"},
    "total": {"nl": "Saldo (netto contante waarde)", "en": "Balance (net present value)"},
    "measure": {"nl": "Maat", "en": "Measure"},
    "value": {"nl": "Waarde", "en": "Value"},
    "estimate": {"nl": "Schatting", "en": "Estimate"},
    "interval": {
        "nl": "95%-interval (bootstrap per jobcoach)",
        "en": "95% interval (bootstrap by jobcoach)",
    },
    "contrast": {"nl": "Vergelijking", "en": "Contrast"},
    "difference": {"nl": "Verschil (dagen werk)", "en": "Difference (days in work)"},
    "rmst_high": {"nl": "Dagen werk (hoog)", "en": "Days in work (high)"},
    "rmst_low": {"nl": "Dagen werk (laag)", "en": "Days in work (low)"},
    "label": {"nl": "Let op", "en": "Note"},
    "low": {"nl": "laag", "en": "low"},
    "high": {"nl": "hoog", "en": "high"},
    "npv_axis": {
        "nl": "Netto contante waarde per deelnemer (€)",
        "en": "Net present value per participant (€)",
    },
    "base": {"nl": "basis", "en": "base"},
}

OUTCOME_LABELS: dict[str, Texts] = {
    "n": {"nl": "Trajecten", "en": "Trajectories"},
    "rmst_6": {
        "nl": "Gemiddelde tijd in werk tot 6 maanden (dagen, RMST)",
        "en": "Mean time in work to 6 months (days, RMST)",
    },
    "rmst_12": {
        "nl": "Gemiddelde tijd in werk tot 12 maanden (dagen, RMST)",
        "en": "Mean time in work to 12 months (days, RMST)",
    },
    "days_in_work": {
        "nl": "Waargenomen dagen in werk binnen de horizon (gemiddeld)",
        "en": "Observed days in work within the horizon (mean)",
    },
    "hours_worked": {
        "nl": "Gewerkte uren binnen de horizon (gemiddeld)",
        "en": "Hours worked within the horizon (mean)",
    },
    "sick_days": {
        "nl": "Verzuimdagen binnen de horizon (gemiddeld)",
        "en": "Sick days within the horizon (mean)",
    },
    "benefit_avoided_month": {
        "nl": "Vermeden uitkering per maand in werk (gemiddeld, €)",
        "en": "Benefit avoided per month in work (mean, €)",
    },
    "contact_hours": {
        "nl": "Contacturen jobcoach binnen de horizon (gemiddeld)",
        "en": "Jobcoach contact hours within the horizon (mean)",
    },
    "external_coach_cost": {
        "nl": "Kosten externe jobcoach (gemiddeld, €)",
        "en": "External jobcoach costs (mean, €)",
    },
    "internal_coach_cost": {
        "nl": "Kosten interne jobcoach (gemiddeld, €)",
        "en": "Internal jobcoach costs (mean, €)",
    },
    "internal_subsidy": {
        "nl": "Subsidie interne jobcoach (overdracht, gemiddeld, €)",
        "en": "Internal-jobcoach subsidy (transfer, mean, €)",
    },
    "lks": {
        "nl": "Loonkostensubsidie (overdracht, gemiddeld, €)",
        "en": "Wage-cost subsidy (transfer, mean, €)",
    },
    "noriskpolis": {
        "nl": "No-riskpolis (overdracht, gemiddeld, €)",
        "en": "No-risk policy (transfer, mean, €)",
    },
}


def t(texts: Mapping[str, Texts], key: str, language: str) -> str:
    """The text ``key`` of ``texts`` in ``language`` (Dutch when missing)."""
    entry = texts.get(key, {})
    return entry.get(language, entry.get("nl", key))


def number(value: float, language: str, digits: int = 1) -> str:
    """A number with a decimal comma in Dutch; a dash for missing."""
    if value is None or not np.isfinite(value):
        return "–"
    text = f"{value:,.{digits}f}"
    if language == "nl":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def money(value: float, language: str) -> str:
    """Euros without cents."""
    if value is None or not np.isfinite(value):
        return "–"
    # a rounded -0.3 would read as "€ -0"
    return f"€ {number(round(value) + 0.0, language, 0)}"


def costs_outcomes_table(
    summary: pd.DataFrame, language: str, *, hidden: str | None = None
) -> pd.DataFrame:
    """The summary as text: measure, value (with the RMST's interval)."""
    rows = []
    for r in summary.itertuples(index=False):
        digits = 0 if r.measure == "n" else 1
        if isinstance(r.value, str):
            value = r.value
        elif hidden and r.value != r.value:
            value = hidden
        elif r.measure.endswith("_cost") or r.measure in (
            "internal_subsidy",
            "lks",
            "noriskpolis",
            "benefit_avoided_month",
        ):
            value = money(r.value, language)
        else:
            value = number(r.value, language, digits)
        if isinstance(r.lower, float) and np.isfinite(r.lower):
            value += f" ({number(r.lower, language)} – {number(r.upper, language)})"
        rows.append((t(OUTCOME_LABELS, r.measure, language), value))
    return pd.DataFrame(rows, columns=[t(TEXT, "measure", language), t(TEXT, "value", language)])


def balance_table(table: pd.DataFrame, language: str) -> pd.DataFrame:
    """The balance per actor as text, with the net present value as its last row."""
    actors = ["employee", "employer", "municipality", "uwv", "society"]
    rows = []
    for r in table.itertuples(index=False):
        kind = t(TEXT, "transfer" if r.transfer else "welfare", language)
        rows.append(
            [
                t(ITEM_LABELS, r.item, language),
                kind,
                *[money(getattr(r, a), language) for a in actors],
            ]
        )
    totals = table[actors].sum()
    rows.append([t(TEXT, "total", language), "", *[money(totals[a], language) for a in actors]])
    columns = [
        t(TEXT, "item", language),
        t(TEXT, "kind", language),
        *[t(ACTOR_LABELS, a, language) for a in actors],
    ]
    return pd.DataFrame(rows, columns=columns)


def _figure_text(quantity: str, value: float, language: str) -> str:
    if quantity in ("npv", "costs"):
        return money(value, language)
    return number(value, language, 2 if quantity == "benefit_cost_ratio" else 1)


def figures_table(intervals: pd.DataFrame, language: str) -> pd.DataFrame:
    """The headline figures with their bootstrap intervals, as text."""
    rows = []
    for r in intervals.itertuples(index=False):
        lower, upper = (_figure_text(r.quantity, v, language) for v in (r.lower, r.upper))
        interval = f"{lower} – {upper}" if np.isfinite(r.lower) else "–"
        rows.append(
            (
                t(QUANTITY_LABELS, r.quantity, language),
                _figure_text(r.quantity, r.estimate, language),
                interval,
            )
        )
    columns = [t(TEXT, k, language) for k in ("measure", "estimate", "interval")]
    return pd.DataFrame(rows, columns=columns)


DOSE_WORDS: dict[str, dict[str, tuple[str, str]]] = {
    "intensity": {
        "nl": ("UWV-regime (15% van de contracturen)", "de helft daarvan"),
        "en": ("UWV regime (15% of contract hours)", "half of it"),
    },
    "klik": {"nl": ("hoge klik", "lage klik"), "en": ("high klik", "low klik")},
}


def dose_table(table: pd.DataFrame, language: str) -> pd.DataFrame:
    """The g-computed contrasts as text, each with its label."""
    from analysis.dose import LABEL

    rows = []
    for r in table.itertuples(index=False):
        high, low = DOSE_WORDS[r.contrast]["en" if language == "en" else "nl"]
        if np.isfinite(r.high_level):
            high = f"{high} ({number(r.high_level, language, 2)})"
            low = f"{low} ({number(r.low_level, language, 2)})"
        interval = f"{number(r.lower, language)} – {number(r.upper, language)}"
        rows.append(
            (
                f"{high} ↔ {low}",
                number(r.rmst_high, language),
                number(r.rmst_low, language),
                f"{number(r.difference, language)} ({interval})",
                LABEL["en" if language == "en" else "nl"],
            )
        )
    columns = [
        t(TEXT, k, language) for k in ("contrast", "rmst_high", "rmst_low", "difference", "label")
    ]
    return pd.DataFrame(rows, columns=columns)
