"""The recovery benchmark's crossed model (jobcoach x employer) runs and reports."""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks import recovery


def test_a_crossed_recovery_cohort_is_fitted_by_the_crossed_engine() -> None:
    out = recovery.fit_cohort((7, 300, 40, 60))
    assert out["crossed_engine"] == "crossed" and out["crossed_converged"]
    for term in recovery.TRUE_MIXED:
        assert isinstance(out[f"crossed:{term}:covered"], bool)
    assert all(out[f"variance:{level}"] >= 0 for level in recovery.TRUE_VARIANCES)
    # employers really are shared by jobcoaches: the model is crossed, not nested
    long = recovery.simulate_crossed(np.random.default_rng(1), 300, 40, 60)
    coaches_per_employer = long.groupby("employer_id")["jobcoach_id"].nunique()
    assert (coaches_per_employer > 1).mean() > 0.9


def test_the_summaries_report_coverage_and_variance_bias() -> None:
    frame = pd.DataFrame([recovery.fit_cohort((s, 200, 30, 40)) for s in (1, 2)])
    table = recovery.summarise(frame)
    assert {f"crossed:{t}" for t in recovery.TRUE_MIXED} <= set(table["parameter"])
    bias = recovery.variance_bias(frame).set_index("component")
    assert list(bias.index) == list(recovery.TRUE_VARIANCES)
    assert {"bias", "relative_bias", "mc_se"} <= set(bias.columns)
