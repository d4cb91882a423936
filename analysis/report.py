"""A self-contained HTML report of a study's frames, in Dutch or English.

:func:`build_report` runs the standard analyses on whichever frames are given and writes one HTML
file (plotly.js embedded once) that can be mailed to a colleague. Every table says its n; the
header gives the data snapshot hash, the software versions and the date.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis import cost_benefit_report, figures, signal_report
from analysis import study_models as models
from analysis.cost_benefit import CostBenefit
from analysis.minimum_data import Shortfall, TooLittleData
from analysis.presentation import MEASURES, column_label, display_table, format_p

__all__ = ["analysis_versions", "build_report", "data_snapshot_hash"]


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
    "cox_note_plain": {
        "nl": "Efron-ties; modelgebaseerde standaardfouten.",
        "en": "Efron ties; model-based standard errors.",
    },
    "ph_check": {
        "nl": "Toets van proportionele hazards (Schoenfeld-residuen, rangtijd)",
        "en": "Proportional-hazards check (Schoenfeld residuals, rank time)",
    },
    "tv_title": {
        "nl": "Cox-regressie met tijdsafhankelijke covariaten (vorige meting, per SD)",
        "en": "Cox regression with time-varying covariates (previous wave, per SD)",
    },
    "events": {"nl": "baanverlies", "en": "job losses"},
    "observations": {"nl": "metingen", "en": "observations"},
    "responses": {"nl": "ingevulde lijsten", "en": "responses"},
    "invitations": {"nl": "uitnodigingen", "en": "invitations"},
    "dropped_out": {"nl": "uitgevallen", "en": "dropped out"},
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
    "mixed_note_two": {
        "nl": "REML; random intercept per werknemer (te weinig jobcoaches met herhaalde metingen "
        "voor een jobcoachniveau); within = afwijking van het persoonsgemiddelde, between = "
        "persoonsgemiddelde.",
        "en": "REML; random intercept per employee (too few jobcoaches with repeated "
        "observations for a jobcoach level); within = deviation from the person mean, between "
        "= person mean.",
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
    "package": {"nl": "Pakket", "en": "Package"},
    "version": {"nl": "Versie", "en": "Version"},
}

END_LABELS: dict[str, dict[str, str]] = {
    "working_independently": {"nl": "zelfstandig aan het werk", "en": "working independently"},
    "job_loss": {"nl": "baanverlies", "en": "job loss"},
    "dropout": {"nl": "uitgevallen", "en": "dropped out"},
    "moved": {"nl": "verhuisd", "en": "moved"},
    "other": {"nl": "anders", "en": "other"},
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


def _shown(shown: pd.DataFrame) -> str:
    """An HTML table of a table already in words (:func:`analysis.presentation.display_table`)."""
    return shown.to_html(index=False, border=0, classes="table", escape=True)


def _table(frame: pd.DataFrame, lang: str, digits: int = 3) -> str:
    return _shown(display_table(frame, lang, digits=digits))


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
    found = models.survival_curves(surv, "klik", lang)
    if found.n == 0:
        return f"<p>{_t('missing', lang)}</p>"
    if found.logrank is not None:
        test = _table(found.logrank, lang)
    elif found.refused is not None:
        # the curves still say something without a test
        test = _refusal(found.refused, lang)
    else:
        test = f"<p>{_t('missing', lang)}</p>"
    fig = figures.km_figure(found.curves, time_scale=models.DAYS_PER_MONTH, lang=lang)
    return (
        f"<p>{_t('km_note', lang)} {_t('km_cut', lang).format(n=found.min_at_risk)}</p>"
        + _n_line(lang, **{_t("trajectories", lang): found.n, _t("events", lang): found.events})
        + fig_html(fig)
        + f"<h3>{_t('logrank', lang)}</h3>"
        + test
    )


def _cox_part(model: models.CoxModel, lang: str, fig_html: _Figures, *, with_ph: bool) -> str:
    result = model.result
    counts: dict[str, object] = {
        _t("trajectories", lang): result.n,
        _t("events", lang): result.events,
    }
    if result.concordance == result.concordance:
        counts["C"] = f"{result.concordance:.3f}"
    counts["LR"] = (
        f"{result.lr_test['stat']:.2f} (df {result.lr_test['df']:.0f}, "
        f"p {format_p(result.lr_test['p'])})"
    )
    note = _t("cox_note" if result.robust else "cox_note_plain", lang)
    body = (
        f"<p>{note}</p>"
        + _n_line(lang, **counts)
        + _shown(model.summary(lang))
        + fig_html(figures.forest_plot(model.labelled(lang), lang=lang))
    )
    if with_ph:
        body += f"<h3>{_t('ph_check', lang)}</h3>" + _shown(model.ph_table(lang))
    return body


def _cox_section(surv: pd.DataFrame, lang: str, fig_html: _Figures) -> str:
    return _cox_part(models.job_loss_cox(surv), lang, fig_html, with_ph=True)


def _tv_section(counting: pd.DataFrame, lang: str, fig_html: _Figures) -> str:
    return _cox_part(models.time_varying_cox(counting), lang, fig_html, with_ph=False)


def _cif_section(surv: pd.DataFrame, lang: str, fig_html: _Figures) -> str:
    curves, table = models.end_reasons(surv)
    if not curves:
        return f"<p>{_t('missing', lang)}</p>"
    fig = go.Figure()
    for i, (reason, cif) in enumerate(curves.items()):
        fig.add_trace(
            go.Scatter(
                x=cif["time"] / models.DAYS_PER_MONTH,
                y=cif["cif"],
                mode="lines",
                line={"shape": "hv", "color": figures.PALETTE[i % len(figures.PALETTE)]},
                name=END_LABELS.get(reason, {}).get(lang, reason),
            )
        )
    fig.update_layout(
        template="plotly_white",
        xaxis_title=figures.TEXT["time_months"][lang],
        yaxis_title=column_label("cif", lang),
    )
    shown = table.assign(
        end_type=table["end_type"].map(lambda r: END_LABELS.get(r, {}).get(lang, r))
    )
    return (
        _n_line(lang, **{_t("trajectories", lang): len(surv)}) + fig_html(fig) + _table(shown, lang)
    )


def _mixed_section(
    person_wave: pd.DataFrame, trajectories: pd.DataFrame, lang: str, fig_html: _Figures
) -> str:
    data = models.employability_frame(person_wave, trajectories)
    model = models.employability_model(data)
    result = model.result
    note = _t("mixed_note" if "jobcoach_id" in result.n_levels else "mixed_note_two", lang)
    body = f"<p>{note}</p><p><code>{html.escape(model.formula)}</code></p>"
    if not result.converged:
        body += f'<p class="warning">{_t("not_converged", lang)}</p>'
    body += _n_line(lang, **{_t("observations", lang): result.n_obs}, **model.levels(lang))
    body += _shown(model.fixed(lang))
    body += f"<h3>{_t('random', lang)}</h3>" + _shown(model.random(lang))
    body += fig_html(figures.trajectory_figure(
        data,
        "capability_count",
        x="wave_months",  # the nominal month of each wave, as on the trajectories page
        lang=lang,
        y_label=MEASURES["capability_count"].text(lang),
        y_range=models.CAPABILITY_RANGE,
    ))  # fmt: skip
    return body


def _alpha_section(
    items: pd.DataFrame,
    scales: Mapping[str, Mapping[str, Sequence[str]]],
    lang: str,
    names: Mapping[str, str] | None,
) -> str:
    table = models.reliability(items, scales)
    if table.empty:
        return f"<p>{_t('missing', lang)}</p>"
    shown = models.named_scales(table, names or {})
    responses = int(items["response_id"].nunique())
    return _n_line(lang, **{_t("responses", lang): responses}) + _table(shown, lang)


def _response_section(person_wave: pd.DataFrame, lang: str, fig_html: _Figures) -> str:
    found = models.attrition(person_wave)
    body = _n_line(lang, **{_t("invitations", lang): int(found.rates["invited"].sum())})
    body += fig_html(figures.response_rate_figure(found.rates, lang=lang))
    body += _table(found.rates, lang)
    if found.dropout_curve is not None:
        body += f"<h3>{_t('dropout', lang)}</h3>"
        body += _n_line(
            lang,
            **{
                _t("trajectories", lang): len(found.dropout),
                _t("dropped_out", lang): int(found.dropout["dropped_out"].sum()),
            },
        )
        body += fig_html(figures.km_figure(found.dropout_curve, lang=lang))
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
    cost_benefit: CostBenefit | None = None,
    cost_parameters: pd.DataFrame | None = None,
    on_refusal: Callable[[str, Shortfall], None] | None = None,
    scales: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
    names: Mapping[str, str] | None = None,
    as_of: date | None = None,
) -> str:
    """Build one self-contained HTML report from the study's frames.

    The models are those of :mod:`analysis.study_models`, the same the dashboard pages fit, so
    the report and the pages give the same numbers for the same data. Sections appear for the
    frames that are given: ``survival`` (KM by klik tertile with log-rank test, the Cox model
    of job loss with forest plot and PH check, cumulative incidence of end reasons),
    ``counting_process`` (the time-varying Cox model), ``person_wave`` + ``trajectories``
    (the three-level model of sustainable employability), ``person_wave`` (response rates and
    dropout), ``response_items`` with ``scales`` (Cronbach's alpha per scale and wave),
    ``signals`` + ``trajectories`` (how often each jobcoach signal fired, was seen
    (``signal_acknowledgements``) and how well it foretold job loss within 90 days). A
    section whose analysis fails, or refuses because there is too little data
    (:mod:`analysis.minimum_data`), says so instead of breaking the report.

    Parameters
    ----------
    frames : mapping of str to DataFrame
        Keys among ``trajectories``, ``survival``, ``counting_process``, ``person_wave``,
        ``response_items``, ``signals``, ``signal_acknowledgements``.
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
    cost_benefit, cost_parameters : optional
        The study's :func:`analysis.cost_benefit.cost_benefit` and the parameter table it used,
        for the section on costs and benefits (left out without).
    on_refusal : callable, optional
        Called with a section's title and the :class:`analysis.minimum_data.Shortfall` of each
        analysis that gave no estimate because there was too little data (the section says so
        too), e.g. to repeat it on the command line.
    scales : mapping, optional
        Instrument id -> scale id -> item ids, for the reliability section (left out without).
    names : mapping, optional
        Instrument and scale ids in words (``questionnaires.registry.names_of`` in ``lang``).
    as_of : date, optional
        The day the data were looked at (for the signals' follow-up horizon); the day of
        ``generated_at`` when omitted.

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
    counting = frames.get("counting_process")

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
    if counting is not None and len(counting):
        sections.append(
            _safe(
                lang,
                _t("tv_title", lang),
                lambda: _tv_section(counting, lang, fig_html),
                on_refusal,
            )
        )
    if surv is not None and len(surv) and "end_type" in surv.columns:
        sections.append(
            _safe(lang, _t("cif_title", lang), lambda: _cif_section(surv, lang, fig_html))
        )
    if person_wave is not None and len(person_wave) and trajectories is not None:
        sections.append(
            _safe(
                lang,
                _t("mixed_title", lang),
                lambda: _mixed_section(person_wave, trajectories, lang, fig_html),
                on_refusal,
            )
        )
    if items is not None and len(items) and scales:
        sections.append(
            _safe(lang, _t("alpha_title", lang), lambda: _alpha_section(items, scales, lang, names))
        )
    if person_wave is not None and len(person_wave):
        sections.append(
            _safe(
                lang,
                _t("response_title", lang),
                lambda: _response_section(person_wave, lang, fig_html),
            )
        )

    signals = frames.get("signals")
    if signals is not None and trajectories is not None:
        seen = frames.get("signal_acknowledgements")
        day = as_of or generated_at.date()
        sections.append(
            _safe(
                lang,
                signal_report.title(lang),
                lambda: signal_report.signals_body(
                    signals, seen, trajectories, as_of=day, lang=lang
                ),
            )
        )

    if cost_benefit is not None and cost_parameters is not None:
        sections.append(
            _safe(
                lang,
                cost_benefit_report.TITLE[lang],
                lambda: cost_benefit_report.cost_benefit_body(cost_benefit, cost_parameters, lang),
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
        + _shown(version_table)
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{heading}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        + header
        + "\n".join(sections)
        + "\n</body>\n</html>\n"
    )
