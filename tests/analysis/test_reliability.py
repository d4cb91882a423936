from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import reliability
from analysis.minimum_data import Minimums, TooLittleData
from analysis.validation import BadInput


def _items(n: int = 80, k: int = 5, noise: float = 1.0, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    trait = rng.normal(0, 1, n)
    return pd.DataFrame({f"i{j}": trait + rng.normal(0, noise, n) for j in range(k)})


def _hand_alpha(data: pd.DataFrame) -> float:
    k = data.shape[1]
    return k / (k - 1) * (1 - data.var(ddof=1).sum() / data.sum(axis=1).var(ddof=1))


def test_alpha_matches_formula_and_feldt_interval():
    data = _items()
    result = reliability.cronbach_alpha(data, list(data.columns)).iloc[0]
    alpha = _hand_alpha(data)
    assert result["alpha"] == pytest.approx(alpha, rel=1e-10)
    n, k = len(data), data.shape[1]
    lower = 1 - (1 - alpha) * stats.f.ppf(0.975, n - 1, (n - 1) * (k - 1))
    upper = 1 - (1 - alpha) * stats.f.ppf(0.025, n - 1, (n - 1) * (k - 1))
    assert result["lower"] == pytest.approx(lower, rel=1e-8)
    assert result["upper"] == pytest.approx(upper, rel=1e-8)
    assert (result["n"], result["k"]) == (80, 5)


def test_alpha_is_listwise():
    data = _items()
    data.iloc[:7, 2] = np.nan
    result = reliability.cronbach_alpha(data, list(data.columns)).iloc[0]
    assert result["n"] == 73
    assert result["alpha"] == pytest.approx(_hand_alpha(data.dropna()), rel=1e-10)


def test_alpha_needs_two_items():
    with pytest.raises(TooLittleData, match="1 item, at least 2 needed"):
        reliability.cronbach_alpha(_items(), ["i0"])


def test_alpha_by_scale_and_wave():
    rows = []
    for wave, noise in (("T0", 0.5), ("T1", 3.0)):
        data = _items(noise=noise, k=6, seed=1 if wave == "T0" else 2)
        for rid, row in data.iterrows():
            for item, value in row.items():
                rows.append((rid if wave == "T0" else rid + 1000, wave, "wai", item, value))
    long = pd.DataFrame(rows, columns=["response_id", "wave", "instrument_id", "item_id", "value"])
    table = reliability.alpha_by(
        long,
        by=["instrument_id", "wave"],
        scales={"bond": ["i0", "i1", "i2"], "goal": ["i3", "i4"]},
    )
    assert len(table) == 4
    assert set(table["scale"]) == {"bond", "goal"}
    t0 = table[(table["wave"] == "T0") & (table["scale"] == "bond")].iloc[0]
    t1 = table[(table["wave"] == "T1") & (table["scale"] == "bond")].iloc[0]
    assert t0["alpha"] > t1["alpha"]
    assert t0["k"] == 3 and t0["n"] == 80
    whole = reliability.alpha_by(long)
    assert set(whole["scale"]) == {"all"} and (whole["k"] == 6).all()


# Shrout & Fleiss (1979), 6 targets rated by 4 judges
SHROUT_FLEISS = [
    [9, 2, 5, 8],
    [6, 1, 3, 2],
    [8, 4, 6, 8],
    [7, 1, 2, 6],
    [10, 5, 6, 9],
    [6, 2, 4, 7],
]


def test_icc_matches_shrout_fleiss():
    long = pd.DataFrame(
        [(t, r, v) for t, row in enumerate(SHROUT_FLEISS) for r, v in enumerate(row)],
        columns=["target", "rater", "rating"],
    )
    # the published example has 6 targets, fewer than the study's rule asks for
    few = Minimums(icc_targets=6)
    table = reliability.icc(long, "target", "rater", "rating", rules=few).set_index("type")
    expected = {
        "ICC1": 0.17,
        "ICC2": 0.29,
        "ICC3": 0.71,
        "ICC1k": 0.44,
        "ICC2k": 0.62,
        "ICC3k": 0.91,
    }
    for kind, value in expected.items():
        assert table.loc[kind, "icc"] == pytest.approx(value, abs=0.005)
    assert (table["n_targets"] == 6).all() and (table["n_raters"] == 4).all()
    assert (table["lower"] < table["icc"]).all()


def test_agreement_bland_altman_and_correlation():
    rng = np.random.default_rng(4)
    a = rng.normal(3.5, 0.6, 50)
    b = a - 0.3 + rng.normal(0, 0.2, 50)
    frame = pd.DataFrame({"employee_klik": a, "jobcoach_klik": b, "wave": ["T0", "T1"] * 25})
    frame.loc[0, "jobcoach_klik"] = np.nan
    row = reliability.agreement(frame, "employee_klik", "jobcoach_klik").iloc[0]
    pair = frame.dropna()
    diff = pair["employee_klik"] - pair["jobcoach_klik"]
    assert row["n"] == 49
    assert row["mean_difference"] == pytest.approx(diff.mean())
    assert row["loa_upper"] == pytest.approx(diff.mean() + 1.96 * diff.std(ddof=1))
    assert row["pearson_r"] == pytest.approx(np.corrcoef(pair.iloc[:, 0], pair.iloc[:, 1])[0, 1])
    assert row["md_lower"] < 0.3 < row["md_upper"] or abs(row["mean_difference"] - 0.3) < 0.1
    by_wave = reliability.agreement(frame, "employee_klik", "jobcoach_klik", by="wave")
    assert by_wave["wave"].tolist() == ["T0", "T1"] and by_wave["n"].sum() == 49


def test_paired_ratings_from_person_wave(person_wave):
    pairs = reliability.paired_ratings(person_wave, ("employee", "klik"), ("jobcoach", "klik"))
    assert list(pairs.columns) == ["trajectory_id", "wave", "employee_klik", "jobcoach_klik"]
    assert not pairs.duplicated(["trajectory_id", "wave"]).any()
    table = reliability.agreement(pairs, "employee_klik", "jobcoach_klik")
    # both ratings share the person effect in the fixture
    assert table["pearson_r"].iloc[0] > 0.5


def _sf_long() -> pd.DataFrame:
    return pd.DataFrame(
        [(t, r, v) for t, row in enumerate(SHROUT_FLEISS) for r, v in enumerate(row)],
        columns=["target", "rater", "rating"],
    )


def test_icc_refuses_one_rater_missing_column_and_double_ratings():
    few = Minimums(icc_targets=6, icc_raters=1)
    long = _sf_long()
    with pytest.raises(TooLittleData, match="1 rater"):
        reliability.icc(long[long["rater"] == 0], "target", "rater", "rating", rules=few)
    with pytest.raises(BadInput, match=r"icc: column 'judge' is not in the frame"):
        reliability.icc(long, "target", "judge", "rating", rules=few)
    doubled = pd.concat([long, long.iloc[:1]])
    with pytest.raises(BadInput, match=r"column 'rating' has more than one rating of target 0"):
        reliability.icc(doubled, "target", "rater", "rating", rules=few)


def test_alpha_of_a_constant_total_is_refused_and_alpha_by_says_nan():
    data = pd.DataFrame({"a": [1.0, 2.0] * 20, "b": [2.0, 1.0] * 20})
    with pytest.raises(BadInput, match="total score does not vary"):
        reliability.cronbach_alpha(data, ["a", "b"])
    with pytest.raises(BadInput, match=r"column 'b' holds text"):
        reliability.cronbach_alpha(data.assign(b="x"), ["a", "b"])
