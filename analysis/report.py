"""A self-contained HTML report of a study's frames, in Dutch or English.

:func:`build_report` runs the standard analyses on whichever frames are given and writes one HTML
file (plotly.js embedded once) that can be mailed to a colleague. Every table says its n; the
header gives the data snapshot hash, the software versions and the date.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Callable, Mapping
from datetime import datetime

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis import attrition, figures, mixed, reliability, survival
from analysis.frames import person_wave_wide
from analysis.minimum_data import RULES, Shortfall, TooLittleData, no_variation

__all__ = ["analysis_versions", "build_report", "data_snapshot_hash"]

DAYS_PER_MONTH = 30.4375
CAPABILITY_RANGE = (0.0, 7.0)

TEXT: dict[str, dict[str, str]] = {
    "title": {"nl": "Klik: analyserapport", "en": "Klik: analysis report"},
    "generated": {"nl": "Gemaakt op", "en": "Generated at"},
    "snapshot": {"nl": "Gegevensmomentopname (SHA-256)", "en": "Data snapshot (SHA-256)"},
    "versions": {"nl": "Softwareversies", "en": "Software versions"},
    "sample": {"nl": "Steekproef", "en": "Sample"},
    "trajectories": {"nl": "Trajecten", "en": "Trajectories"},
    "jobcoaches": {"nl": "Jobcoaches", "en": "Jobcoaches"},
    "job_loss": {"nl": "Baanverlies", "en": "Job loss"},
    "km_title": {
        "nl": "Tijd tot baanverlies naar klik (tertielen bij de start)",
        "en": "Time to job loss by klik (tertiles at baseline)",
    },
    "km_note": {
        "nl": "Kaplan–Meier met 95%-betrouwbaarheidsbanden (log(-log)-transformatie, Greenwood).",
        "en": "Kaplan–Meier with 95% confidence bands (log(-log) transform, Greenwood).",
    },
    "km_cut": {
        "nl": "Curves stoppen waar minder dan {n} personen at risk zijn.",
        "en": "Curves stop where fewer than {n} people are at risk.",
    },
    "logrank": {"nl": "Log-ranktoets", "en": "Log-rank test"},
    "cox_title": {
        "nl": "Cox-regressie van baanverlies (hazard ratio per SD)",
        "en": "Cox regression of job loss (hazard ratio per SD)",
    },
    "cox_note": {
        "nl": "Efron-ties; standaardfouten robuust geclusterd per jobcoach.",
        "en": "Efron ties; standard errors robust, clustered by jobcoach.",
    },
    "ph_check": {
        "nl": "Toets van proportionele hazards (Schoenfeld-residuen, rangtijd)",
        "en": "Proportional-hazards check (Schoenfeld residuals, rank time)",
    },
    "cif_title": {
        "nl": "Waarom trajecten eindigen (cumulatieve incidentie, Aalen–Johansen)",
        "en": "Why trajectories end (cumulative incidence, Aalen–Johansen)",
    },
    "mixed_title": {
        "nl": "Duurzame inzetbaarheid over de tijd (lineair mixed model)",
        "en": "Sustainable employability over time (linear mixed model)",
    },
    "mixed_note": {
        "nl": "REML; random intercept per jobcoach en per werknemer binnen jobcoach; "
        "within = afwijking van het persoonsgemiddelde, between = persoonsgemiddelde.",
        "en": "REML; random intercept per jobcoach and per employee within jobcoach; "
        "within = deviation from the person mean, between = person mean.",
    },
    "random": {"nl": "Variantiecomponenten", "en": "Variance components"},
    "not_converged": {
        "nl": "Let op: het model is niet geconvergeerd; schattingen onder voorbehoud.",
        "en": "Warning: the model did not converge; treat the estimates with caution.",
    },
    "alpha_title": {
        "nl": "Betrouwbaarheid (Cronbachs alfa per instrument en meting)",
        "en": "Reliability (Cronbach's alpha per instrument and wave)",
    },
    "response_title": {"nl": "Respons per meting en rol", "en": "Response per wave and role"},
    "dropout": {"nl": "Uitval uit de vragenlijsten", "en": "Dropout from questionnaires"},
    "missing": {
        "nl": "Niet beschikbaar: te weinig gegevens",
        "en": "Not available: too little data",
    },
    "failed": {"nl": "Analyse mislukt", "en": "Analysis failed"},
    "months": {"nl": "maanden", "en": "months"},
    "low": {"nl": "laag", "en": "low"},
    "middle": {"nl": "midden", "en": "middle"},
    "high": {"nl": "hoog", "en": "high"},
    "package": {"nl": "Pakket", "en": "Package"},
    "version": {"nl": "Versie", "en": "Version"},
}

COVARIATE_LABELS: dict[str, dict[str, str]] = {
    "baseline_klik": {"nl": "klik (start)", "en": "klik (baseline)"},
    "baseline_alliance": {"nl": "werkalliantie (start)", "en": "working alliance (baseline)"},
    "contact_minutes_per_month": {
        "nl": "coachingsintensiteit (min/maand)",
        "en": "coaching intensity (min/month)",
    },
    "baseline_match_quality": {"nl": "match (start)", "en": "match (baseline)"},
}


def _t(key: str, lang: str) -> str:
    return TEXT[key].get(lang, TEXT[key]["en"])


def data_snapshot_hash(frames: Mapping[str, pd.DataFrame]) -> str:
    """SHA-256 of a canonical serialisation of the frames.

    The hash does not depend on row order, column order or the index: per frame it covers the
    name, the sorted column names with their dtypes and the sorted per-row hashes
    (``pandas.util.hash_pandas_object``) of the values.

    Parameters
    ----------
    frames : mapping of str to DataFrame
        The frames an analysis was computed on.

    Returns
    -------
    str
        64 hexadecimal characters.
    """
    digest = hashlib.sha256()
    for name in sorted(frames):
        frame = frames[name]
        columns = sorted(str(c) for c in frame.columns)
        canonical = frame.rename(columns=str)[columns].reset_index(drop=True)
        digest.update(f"frame:{name}\n".encode())
        for col in columns:
            digest.update(f"{col}:{canonical[col].dtype}\n".encode())
        digest.update(f"rows:{len(canonical)}\n".encode())
        if len(canonical) and columns:
            row_hashes = pd.util.hash_pandas_object(canonical, index=False).to_numpy()
            digest.update(np.sort(row_hashes).tobytes())
    return digest.hexdigest()


def analysis_versions() -> dict[str, str]:
    """Versions of the numerical packages the analyses run on."""
    import lifelines
    import pingouin
    import plotly
    import scipy
    import statsmodels

    return {
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scipy": scipy.__version__,
        "lifelines": lifelines.__version__,
        "statsmodels": statsmodels.__version__,
        "pingouin": pingouin.__version__,
        "plotly": plotly.__version__,
    }


class _Figures:
    """Embeds figures; the first one carries plotly.js, the rest reuse it."""

    def __init__(self) -> None:
        self.first = True

    def __call__(self, fig: go.Figure) -> str:
        out = fig.to_html(full_html=False, include_plotlyjs=self.first, config={"responsive": True})
        self.first = False
        return out


def _table(frame: pd.DataFrame, digits: int = 3) -> str:
    shown = frame.copy()
    for col in shown.columns:
        if pd.api.types.is_float_dtype(shown[col]):
            if col == "p" or col.endswith("_p"):
                shown[col] = shown[col].map(
                    lambda v: "" if pd.isna(v) else ("<0.001" if v < 0.001 else f"{v:.3f}")
                )
            else:
                shown[col] = shown[col].map(lambda v: "" if pd.isna(v) else f"{v:.{digits}f}")
    return shown.to_html(index=False, border=0, classes="table", escape=True)


def _n_line(lang: str, **counts: object) -> str:
    parts = ", ".join(f"{html.escape(k)} = {html.escape(str(v))}" for k, v in counts.items())
    return f'<p class="n">n: {parts}</p>'


def _section(title: str, body: str) -> str:
    return f"<section><h2>{html.escape(title)}</h2>\n{body}\n</section>"


def _refusal(shortfall: Shortfall, lang: str) -> str:
    return f'<p class="too-little">{html.escape(shortfall.text(lang))}</p>'


def _safe(
    lang: str,
    title: str,
    make: Callable[[], str],
    on_refusal: Callable[[str, Shortfall], None] | None = None,
) -> str:
    try:
        return _section(title, make())
    except TooLittleData as exc:
        if on_refusal is not None:
            on_refusal(title, exc.shortfall)
        return _section(title, _refusal(exc.shortfall, lang))
    except (ValueError, KeyError, np.linalg.LinAlgError, ZeroDivisionError) as exc:
        message = f"{_t('failed', lang)}: {html.escape(str(exc))}"
        return _section(title, f'<p class="warning">{message}</p>')


def _km_section(surv: pd.DataFrame, lang: str, fig_html: _Figures) -> str:
    data = surv.dropna(subset=["baseline_klik"])
    if len(data) < 6 or data["baseline_klik"].nunique() < 3:
        return f"<p>{_t('missing', lang)}</p>"
    labels = [_t("low", lang), _t("middle", lang), _t("high", lang)]
    ranks = data["baseline_klik"].rank(method="first")
    data = data.assign(klik_tertile=pd.qcut(ranks, 3, labels=labels).astype(str))
    curves = survival.kaplan_meier(
        data, "duration_days", "event", by="klik_tertile", min_at_risk=RULES.km_at_risk
    )
    curves = pd.concat([curves[curves["group"] == label] for label in labels], ignore_index=True)
    try:
        test = _table(survival.logrank(data, "duration_days", "event", by="klik_tertile"))
    except TooLittleData as exc:
        # the curves still say something without a test
        test = _refusal(exc.shortfall, lang)
    fig = figures.km_figure(curves, time_scale=DAYS_PER_MONTH, lang=lang)
    return (
        f"<p>{_t('km_note', lang)} {_t('km_cut', lang).format(n=RULES.km_at_risk)}</p>"
        + _n_line(lang, **{_t("trajectories", lang): len(data), "events": int(data["event"].sum())})
        + fig_html(fig)
        + f"<h3>{_t('logrank', lang)}</h3>"
        + test
    )


def _cox_section(surv: pd.DataFrame, lang: str, fig_html: _Figures) -> str:
    covs = [
        c
        for c in ("baseline_klik", "contact_minutes_per_month", "baseline_match_quality")
        if c in surv.columns and surv[c].notna().sum() > 0 and surv[c].std() > 0
    ]
    if not covs:
        raise TooLittleData(no_variation("cox"))
    data = surv.copy()
    for c in covs:
        data[c] = (data[c] - data[c].mean()) / data[c].std()
    cluster = "jobcoach_id" if data["jobcoach_id"].nunique() > 1 else None
    result = survival.cox(data, "duration_days", "event", covs, cluster=cluster)
    summary = result.summary.assign(
        term=lambda f: f["term"].map(lambda t: COVARIATE_LABELS.get(t, {}).get(lang, t))
    )
    return (
        f"<p>{_t('cox_note', lang)}</p>"
        + _n_line(
            lang,
            **{
                _t("trajectories", lang): result.n,
                "events": result.events,
                "C": f"{result.concordance:.3f}",
                "LR": f"{result.lr_test['stat']:.2f} (df {result.lr_test['df']:.0f}, "
                f"p {result.lr_test['p']:.3g})",
            },
        )
        + _table(summary)
        + fig_html(figures.forest_plot(summary, lang=lang))
        + f"<h3>{_t('ph_check', lang)}</h3>"
        + _table(result.ph_check)
    )


def _cif_section(surv: pd.DataFrame, lang: str, fig_html: _Figures) -> str:
    reasons = [r for r in surv["end_type"].dropna().unique() if r != "censored"]
    if not reasons:
        return f"<p>{_t('missing', lang)}</p>"
    fig = go.Figure()
    rows = []
    for i, reason in enumerate(sorted(reasons)):
        cif = survival.cumulative_incidence(surv, "duration_days", "end_type", of=reason)
        fig.add_trace(
            go.Scatter(
                x=cif["time"] / DAYS_PER_MONTH,
                y=cif["cif"],
                mode="lines",
                line={"shape": "hv", "color": figures.PALETTE[i % len(figures.PALETTE)]},
                name=str(reason),
            )
        )
        for months in (6, 12, 24):
            idx = np.searchsorted(cif["time"].to_numpy(), months * DAYS_PER_MONTH, "right") - 1
            row = cif.iloc[max(idx, 0)]
            rows.append((reason, months, row["cif"], row["lower"], row["upper"]))
    fig.update_layout(
        template="plotly_white",
        xaxis_title=figures.TEXT["time_months"][lang],
        yaxis_title="CIF",
    )
    table = pd.DataFrame(rows, columns=["end_type", _t("months", lang), "cif", "lower", "upper"])
    return _n_line(lang, **{_t("trajectories", lang): len(surv)}) + fig_html(fig) + _table(table)


def _mixed_frame(person_wave: pd.DataFrame, trajectories: pd.DataFrame | None) -> pd.DataFrame:
    wide = person_wave_wide(person_wave, respondent="employee")
    predictor = next((c for c in ("alliance", "klik") if c in wide.columns), None)
    if predictor is not None:
        wide = mixed.within_between(wide, predictor, by="trajectory_id")
    if trajectories is not None:
        extra = [
            c
            for c in ("contact_minutes_per_month", "baseline_match_quality")
            if c in trajectories.columns
        ]
        wide = wide.merge(trajectories[["trajectory_id", *extra]], on="trajectory_id", how="left")
    return wide


def _mixed_section(
    person_wave: pd.DataFrame, trajectories: pd.DataFrame | None, lang: str, fig_html: _Figures
) -> str:
    data = _mixed_frame(person_wave, trajectories)
    if "capability_count" not in data.columns or data["capability_count"].notna().sum() == 0:
        return f"<p>{_t('missing', lang)}</p>"
    candidates = [
        "months",
        "alliance_within",
        "alliance_between",
        "klik_within",
        "klik_between",
        "contact_minutes_per_month",
        "baseline_match_quality",
    ]
    terms = [c for c in candidates if c in data.columns and data[c].std(skipna=True) > 0]
    if "alliance_within" in terms:
        terms = [t for t in terms if not t.startswith("klik_")]
    formula = "capability_count ~ " + (" + ".join(terms) if terms else "1")
    used = data.dropna(subset=["capability_count", *terms])
    three_levels = used["jobcoach_id"].nunique() > 1 and used["trajectory_id"].nunique() > 1
    result = mixed.fit(
        used,
        formula,
        groups="jobcoach_id" if three_levels else "trajectory_id",
        vc_formula={"employee": "0 + C(trajectory_id)"} if three_levels else None,
    )
    body = f"<p>{_t('mixed_note', lang)}</p><p><code>{html.escape(formula)}</code></p>"
    if not result.converged:
        body += f'<p class="warning">{_t("not_converged", lang)}</p>'
    body += _n_line(lang, observations=result.n_obs, **result.n_levels)
    body += _table(result.fixed)
    body += f"<h3>{_t('random', lang)}</h3>" + _table(result.random.drop(columns="corr"))
    body += fig_html(
        figures.trajectory_figure(
            used,
            "capability_count",
            lang=lang,
            y_label="capability_count",
            y_range=CAPABILITY_RANGE,
        )
    )
    return body


def _alpha_section(items: pd.DataFrame, lang: str) -> str:
    table = reliability.alpha_by(items, by=["instrument_id", "wave"])
    if table.empty:
        return f"<p>{_t('missing', lang)}</p>"
    return _n_line(lang, responses=int(items["response_id"].nunique())) + _table(table)


def _response_section(person_wave: pd.DataFrame, lang: str, fig_html: _Figures) -> str:
    rates = attrition.response_rates(person_wave)
    dropout = attrition.time_to_dropout(person_wave)
    body = _n_line(lang, invitations=int(rates["invited"].sum()))
    body += fig_html(figures.response_rate_figure(rates, lang=lang))
    body += _table(rates)
    if len(dropout) and dropout["dropped_out"].sum() > 0:
        curve = survival.kaplan_meier(
            dropout, "months", "dropped_out", min_at_risk=RULES.km_at_risk
        )
        body += f"<h3>{_t('dropout', lang)}</h3>"
        body += _n_line(
            lang,
            **{
                _t("trajectories", lang): len(dropout),
                "dropout": int(dropout["dropped_out"].sum()),
            },
        )
        body += fig_html(figures.km_figure(curve, lang=lang))
    return body


STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; }
table.table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.9em; }
table.table th, table.table td { padding: 3px 8px; border-bottom: 1px solid #eee; text-align: right; }
table.table th:first-child, table.table td:first-child { text-align: left; }
p.n { color: #555; font-size: 0.9em; } p.warning { color: #a00; font-weight: bold; }
p.too-little { color: #6a4a00; font-style: italic; }
code { background: #f4f4f4; padding: 1px 4px; }
"""


def build_report(
    frames: Mapping[str, pd.DataFrame],
    *,
    snapshot: str,
    generated_at: datetime,
    lang: str = "nl",
    versions: Mapping[str, str] | None = None,
    title: str | None = None,
    on_refusal: Callable[[str, Shortfall], None] | None = None,
) -> str:
    """Build one self-contained HTML report from the study's frames.

    Sections appear for the frames that are given: ``survival`` (KM by klik tertile with
    log-rank test, Cox model with forest plot and PH check, cumulative incidence of end
    reasons), ``person_wave`` (+ ``trajectories``) (mixed model of capability_count over months
    with within/between alliance or klik, intensity and match; response rates and dropout),
    ``response_items`` (Cronbach's alpha per instrument and wave). A section whose analysis
    fails, or refuses because there is too little data (:mod:`analysis.minimum_data`), says
    so instead of breaking the report.

    Parameters
    ----------
    frames : mapping of str to DataFrame
        Keys among ``trajectories``, ``survival``, ``person_wave``, ``response_items``.
    snapshot : str
        Hash of the data snapshot (see :func:`data_snapshot_hash`).
    generated_at : datetime
        When the report is made (passed in; never read from the clock here).
    lang : {"nl", "en"}
        Report language.
    versions : mapping of str to str, optional
        Software versions to print; :func:`analysis_versions` when omitted.
    title : str, optional
        Report title.
    on_refusal : callable, optional
        Called with a section's title and the :class:`analysis.minimum_data.Shortfall` of each
        analysis that gave no estimate because there was too little data (the section says so
        too), e.g. to repeat it on the command line.

    Returns
    -------
    str
        A complete HTML document with plotly.js embedded once.
    """
    if lang not in ("nl", "en"):
        raise ValueError('lang must be "nl" or "en"')
    fig_html = _Figures()
    versions = dict(versions) if versions is not None else analysis_versions()
    trajectories = frames.get("trajectories")
    surv = frames.get("survival")
    person_wave = frames.get("person_wave")
    items = frames.get("response_items")

    counts: dict[str, int] = {}
    base = trajectories if trajectories is not None else surv
    if base is not None:
        counts[_t("trajectories", lang)] = len(base)
        counts[_t("jobcoaches", lang)] = int(base["jobcoach_id"].nunique())
    sections = []
    if surv is not None and len(surv):
        sections.append(
            _safe(lang, _t("km_title", lang), lambda: _km_section(surv, lang, fig_html), on_refusal)
        )
        sections.append(
            _safe(
                lang, _t("cox_title", lang), lambda: _cox_section(surv, lang, fig_html), on_refusal
            )
        )
        if "end_type" in surv.columns:
            sections.append(
                _safe(lang, _t("cif_title", lang), lambda: _cif_section(surv, lang, fig_html))
            )
    if person_wave is not None and len(person_wave):
        sections.append(
            _safe(
                lang,
                _t("mixed_title", lang),
                lambda: _mixed_section(person_wave, trajectories, lang, fig_html),
                on_refusal,
            )
        )
    if items is not None and len(items):
        sections.append(_safe(lang, _t("alpha_title", lang), lambda: _alpha_section(items, lang)))
    if person_wave is not None and len(person_wave):
        sections.append(
            _safe(
                lang,
                _t("response_title", lang),
                lambda: _response_section(person_wave, lang, fig_html),
            )
        )

    version_table = pd.DataFrame(
        sorted(versions.items()), columns=[_t("package", lang), _t("version", lang)]
    )
    heading = html.escape(title or _t("title", lang))
    header = (
        f"<h1>{heading}</h1>"
        f"<p>{_t('generated', lang)}: {html.escape(generated_at.isoformat(timespec='seconds'))}"
        f"<br>{_t('snapshot', lang)}: <code>{html.escape(snapshot)}</code></p>"
        f"<h2>{_t('sample', lang)}</h2>"
        + (_n_line(lang, **counts) if counts else "")
        + f"<h3>{_t('versions', lang)}</h3>"
        + _table(version_table)
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{heading}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        + header
        + "\n".join(sections)
        + "\n</body>\n</html>\n"
    )
