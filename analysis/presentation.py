"""How the study's numbers read: units said once, column labels in Dutch and English, rounding.

Every table a person sees (dashboard pages, HTML report) goes through :func:`display_table`,
so a number rounds and a column is named the same way everywhere. Units live in
:data:`MEASURES`: a model that standardises a covariate labels it "per SD" and gives the SD in
the measure's unit, so a per-SD hazard ratio never carries a per-minute label.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "COLUMN_LABELS",
    "MEASURES",
    "Measure",
    "column_label",
    "display_table",
    "format_number",
    "format_p",
    "per_sd_label",
]

Texts = Mapping[str, str]


@dataclass(frozen=True)
class Measure:
    """One quantity of the study as a person reads it.

    Attributes
    ----------
    label : mapping
        Name in Dutch (``nl``) and English (``en``).
    unit : mapping
        Unit in Dutch and English ("uur per maand"); empty for counts and scores without one.
    """

    label: Texts
    unit: Texts

    def text(self, language: str) -> str:
        """Label with its unit in brackets, e.g. "coachingsintensiteit (uur per maand)"."""
        unit = self.unit.get(language) or self.unit.get("nl", "")
        label = self.label.get(language) or self.label["nl"]
        return f"{label} ({unit})" if unit else label


POINTS = {"nl": "schaalpunten", "en": "scale points"}

MEASURES: dict[str, Measure] = {
    "klik": Measure({"nl": "klik bij de start", "en": "klik at baseline"}, POINTS),
    "klik_lag": Measure({"nl": "klik vorige meting", "en": "klik at previous wave"}, POINTS),
    "intensity": Measure(
        {"nl": "coachingsintensiteit", "en": "coaching intensity"},
        {"nl": "uur per maand", "en": "hours per month"},
    ),
    "intensity_lag": Measure(
        {
            "nl": "coachingsintensiteit vorige periode",
            "en": "coaching intensity, previous interval",
        },
        {"nl": "uur per maand", "en": "hours per month"},
    ),
    "match": Measure({"nl": "match bij de start", "en": "match at baseline"}, POINTS),
    "match_lag": Measure({"nl": "match vorige meting", "en": "match at previous wave"}, POINTS),
    "months": Measure(
        {"nl": "tijd sinds de start", "en": "time since start"}, {"nl": "maanden", "en": "months"}
    ),
    "alliance_within": Measure(
        {"nl": "werkalliantie binnen persoon", "en": "working alliance, within person"}, POINTS
    ),
    "alliance_between": Measure(
        {"nl": "werkalliantie tussen personen", "en": "working alliance, between persons"}, POINTS
    ),
    "capability_count": Measure(
        {"nl": "aantal capabilities (0–7)", "en": "number of capabilities (0–7)"}, {}
    ),
    "Intercept": Measure({"nl": "intercept", "en": "intercept"}, {}),
}
"""The study's quantities, keyed by the names the models of :mod:`analysis.study_models` use."""


def per_sd_label(measure: str, sd: float, language: str) -> str:
    """Label of a standardised covariate: "coachingsintensiteit (per SD = 1.25 uur per maand)"."""
    m = MEASURES[measure]
    label = m.label.get(language) or m.label["nl"]
    unit = m.unit.get(language) or m.unit.get("nl", "")
    size = format_number(sd, 2)
    return f"{label} (per SD = {size} {unit})".replace("  ", " ").replace(" )", ")")


COLUMN_LABELS: dict[str, Texts] = {
    "term": {"nl": "term", "en": "term"},
    "coef": {"nl": "coëfficiënt", "en": "coefficient"},
    "hr": {"nl": "hazard ratio", "en": "hazard ratio"},
    "se": {"nl": "SE", "en": "SE"},
    "hr_lower": {"nl": "95%-BI onder", "en": "95% CI lower"},
    "hr_upper": {"nl": "95%-BI boven", "en": "95% CI upper"},
    "lower": {"nl": "95%-BI onder", "en": "95% CI lower"},
    "upper": {"nl": "95%-BI boven", "en": "95% CI upper"},
    "z": {"nl": "z", "en": "z"},
    "p": {"nl": "p", "en": "p"},
    "estimate": {"nl": "schatting", "en": "estimate"},
    "component": {"nl": "component", "en": "component"},
    "variance": {"nl": "variantie", "en": "variance"},
    "sd": {"nl": "SD", "en": "SD"},
    "test_statistic": {"nl": "toetsingsgrootheid", "en": "test statistic"},
    "statistic": {"nl": "toetsingsgrootheid", "en": "test statistic"},
    "df": {"nl": "vrijheidsgraden", "en": "df"},
    "n": {"nl": "n", "en": "n"},
    "events": {"nl": "gebeurtenissen", "en": "events"},
    "groups": {"nl": "groepen", "en": "groups"},
    "instrument_id": {"nl": "instrument", "en": "instrument"},
    "wave": {"nl": "meting", "en": "wave"},
    "wave_index": {"nl": "metingnummer", "en": "wave number"},
    "respondent": {"nl": "rol", "en": "role"},
    "scale": {"nl": "schaal", "en": "scale"},
    "alpha": {"nl": "α", "en": "α"},
    "k": {"nl": "items", "en": "items"},
    "end_type": {"nl": "einde", "en": "end"},
    "months": {"nl": "maanden", "en": "months"},
    "cif": {"nl": "cumulatieve incidentie", "en": "cumulative incidence"},
    "invited": {"nl": "uitgenodigd", "en": "invited"},
    "responded": {"nl": "ingevuld", "en": "responded"},
    "on_time": {"nl": "op tijd", "en": "on time"},
    "late": {"nl": "te laat", "en": "late"},
    "missing": {"nl": "gemist", "en": "missed"},
    "open": {"nl": "open", "en": "open"},
    "cancelled": {"nl": "vervallen", "en": "cancelled"},
    "rate": {"nl": "respons", "en": "response"},
    "on_time_rate": {"nl": "respons op tijd", "en": "response on time"},
    "message": {"nl": "melding", "en": "message"},
    "item_id": {"nl": "item", "en": "item"},
    "responses": {"nl": "ingevulde lijsten", "en": "responses"},
    "answered": {"nl": "beantwoord", "en": "answered"},
    "missing_share": {"nl": "aandeel leeg", "en": "share missing"},
    "late_share": {"nl": "aandeel te laat", "en": "share late"},
    "median_days_after_due": {
        "nl": "mediaan dagen na de streefdatum",
        "en": "median days after the due date",
    },
}
"""Column names of the analysis tables -> what a person reads."""

#: columns shown as whole numbers
COUNT_COLUMNS = frozenset(
    {"n", "events", "groups", "k", "invited", "responded", "on_time", "late", "missing", "open",
     "cancelled", "months", "wave_index", "responses", "answered", "df"}
)  # fmt: skip
#: columns shown as shares in two decimals
RATE_COLUMNS = frozenset({"rate", "on_time_rate", "alpha", "cif", "missing_share", "late_share"})


def column_label(column: str, language: str) -> str:
    """What a person reads above ``column`` (the name itself when it has no label)."""
    texts = COLUMN_LABELS.get(column)
    return column if texts is None else texts.get(language, texts["nl"])


def format_p(value: float) -> str:
    """A p-value as reported: three decimals, ``<0.001`` below that, empty when missing."""
    if value is None or not np.isfinite(value):
        return ""
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def format_number(value: object, digits: int = 3) -> str:
    """A number in ``digits`` decimals (whole numbers without), empty when missing."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return str(value)
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return f"{float(value):.{digits}f}"
    return str(value)


def display_table(
    table: pd.DataFrame,
    language: str = "nl",
    *,
    digits: int = 3,
    terms: Mapping[str, str] | None = None,
    missing: str = "",
) -> pd.DataFrame:
    """An analysis table as a person reads it: labelled columns, every cell as text.

    Parameters
    ----------
    table : DataFrame
        Any table of the analysis layer.
    language : {"nl", "en"}
        Language of the column labels.
    digits : int
        Decimals of estimates; p-values get three (``<0.001``), counts none, rates two.
    terms : mapping, optional
        Words for the values of the ``term`` column (e.g. from a model's ``term_labels``).
    missing : str
        What a missing number reads as (e.g. a mark for a number hidden from a viewer).

    Returns
    -------
    DataFrame
        The same rows; columns renamed with :data:`COLUMN_LABELS`; every cell a str. A table
        already in words comes back unchanged.
    """
    shown = pd.DataFrame(index=table.index)
    # an interval is shown as precisely as its estimate
    interval = 2 if "alpha" in table.columns or "cif" in table.columns else digits
    for column in table.columns:
        values = table[column]
        if column == "term" and terms:
            values = values.map(lambda v: terms.get(v, v))
        name = str(column)
        places = interval if name in ("lower", "upper") else digits
        shown[column_label(name, language)] = [
            _cell(v, name, places, missing) for v in values.astype(object)
        ]
    return shown.reset_index(drop=True)


def _cell(value: object, column: str, digits: int, missing: str) -> str:
    if isinstance(value, str):
        return value
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return missing
    if column == "p" or column.endswith("_p"):
        return format_p(float(value))  # type: ignore[arg-type]
    if column in COUNT_COLUMNS and isinstance(value, int | float | np.number):
        return format_number(round(float(value)))
    if column in RATE_COLUMNS:
        return format_number(value, 2)
    return format_number(value, digits)
