"""The expected course of a score: a mixed model of the follow-up waves given the baseline.

``y_it = b0 + b_wave(t) + g * y_i0 + u_i + e_it`` with a random intercept per employee, fitted on
the cohort's follow-up waves (statsmodels ``MixedLM``). The expected score of an employee at a
wave is the fixed part; the spread around it is ``sqrt(var(u) + var(e))``, so an employee's
position is ``z = (y - expected) / sd`` and the band's 25th and 10th percentiles are
``expected + z_25 * sd`` and ``expected + z_10 * sd``. This is the expected-treatment-response
idea of PCOMS/OpenFIT applied to Klik's waves.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analysis.validation import require_columns

#: z of the 25th and 10th percentile of the normal distribution
Z25 = float(stats.norm.ppf(0.25))
Z10 = float(stats.norm.ppf(0.10))


@dataclass(frozen=True)
class ExpectedCourse:
    """A fitted expected course of one score.

    Attributes
    ----------
    score : str
        The score modelled (e.g. ``capability_count``).
    intercept, slope_baseline : float
        The fixed intercept and the coefficient of the baseline score.
    wave_effects : dict
        Wave label -> its fixed effect against the first follow-up wave (which has 0).
    sd : float
        sqrt(employee variance + residual variance): the spread of one new observation.
    n_employees : int
        Employees with at least two waves (baseline and one follow-up) in the fit.
    """

    score: str
    intercept: float
    slope_baseline: float
    wave_effects: dict[str, float] = field(default_factory=dict)
    sd: float = float("nan")
    n_employees: int = 0

    def expected(self, baseline: float, wave: str) -> float:
        """The expected score at ``wave`` of an employee who started at ``baseline``
        (NaN for a wave the model has not seen)."""
        if wave not in self.wave_effects:
            return float("nan")
        return self.intercept + self.wave_effects[wave] + self.slope_baseline * baseline

    def band(self, baseline: float, waves: list[str]) -> pd.DataFrame:
        """The expected band of one employee over ``waves``.

        Returns
        -------
        DataFrame
            wave, median, p25, p10 (NaN for waves the model has not seen).
        """
        rows = []
        for wave in waves:
            mid = self.expected(baseline, wave)
            rows.append((wave, mid, mid + Z25 * self.sd, mid + Z10 * self.sd))
        return pd.DataFrame(rows, columns=["wave", "median", "p25", "p10"])

    def z(self, value: float, baseline: float, wave: str) -> float:
        """How many predicted SDs ``value`` lies above (+) or below (-) the expected score."""
        return (value - self.expected(baseline, wave)) / self.sd


def employees_with_two_waves(person_wave: pd.DataFrame, score: str) -> int:
    """Employees with a baseline and at least one follow-up value of ``score``."""
    wide = _pairs(person_wave, score)
    return int(wide["trajectory_id"].nunique()) if not wide.empty else 0


def _pairs(person_wave: pd.DataFrame, score: str) -> pd.DataFrame:
    """Follow-up values of ``score`` with the employee's baseline: trajectory_id, wave,
    wave_index, value, baseline."""
    require_columns(
        person_wave,
        ["trajectory_id", "wave", "wave_index", "respondent", "score", "value"],
        "expected_course",
    )
    own = person_wave[
        (person_wave["respondent"] == "employee")
        & (person_wave["score"] == score)
        & person_wave["value"].notna()
    ]
    if "anchor" in own.columns:
        own = own[own["anchor"] == "start"]
    base = own[own["wave_index"] == 0].drop_duplicates("trajectory_id")[["trajectory_id", "value"]]
    follow = own[own["wave_index"] > 0][["trajectory_id", "wave", "wave_index", "value"]]
    return follow.merge(base.rename(columns={"value": "baseline"}), on="trajectory_id")


def fit_expected_course(person_wave: pd.DataFrame, score: str) -> ExpectedCourse | None:
    """Fit the expected course of ``score`` on the cohort's employee waves.

    Returns None when it cannot be estimated: fewer than two follow-up waves' worth of
    employees, a baseline without spread, or a fit that does not give a positive spread.
    """
    pairs = _pairs(person_wave, score)
    n = int(pairs["trajectory_id"].nunique()) if not pairs.empty else 0
    if n < 3 or pairs["baseline"].nunique() < 2:
        return None
    import statsmodels.formula.api as smf

    waves = sorted(
        pairs["wave"].unique(), key=lambda w: pairs.loc[pairs["wave"] == w, "wave_index"].min()
    )
    data = pairs.assign(wave=pd.Categorical(pairs["wave"], categories=waves))
    formula = "value ~ baseline" + (" + C(wave)" if len(waves) > 1 else "")
    with warnings.catch_warnings():
        # a boundary fit (no employee variance) is a valid answer here: the spread is residual
        warnings.simplefilter("ignore")
        try:
            result = smf.mixedlm(formula, data, groups=data["trajectory_id"]).fit(reml=True)
        except (ValueError, np.linalg.LinAlgError):
            return None
    params = result.fe_params
    var_u = float(result.cov_re.iloc[0, 0]) if result.cov_re.size else 0.0
    sd = float(np.sqrt(max(var_u, 0.0) + float(result.scale)))
    if not np.isfinite(sd) or sd <= 0:
        return None
    effects = {waves[0]: 0.0}
    for wave in waves[1:]:
        effects[wave] = float(params.get(f"C(wave)[T.{wave}]", 0.0))
    return ExpectedCourse(
        score=score,
        intercept=float(params["Intercept"]),
        slope_baseline=float(params["baseline"]),
        wave_effects=effects,
        sd=sd,
        n_employees=n,
    )
