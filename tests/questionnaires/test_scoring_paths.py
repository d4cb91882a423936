"""The single-response scorer and the vectorised scorer agree on every built-in instrument."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from questionnaires.registry import load_instruments
from questionnaires.scoring import score_frame, score_response

INSTRUMENTS = load_instruments()


def answers_for(instrument):
    """Any mix of valid and missing answers for the scored items."""
    fields = {}
    for item_id in {i for sc in instrument.scores for i in sc.items}:
        item = instrument.item(item_id)
        if item.options:
            choices = [o.code for o in item.options]
        else:
            lo, hi = item.value_range
            choices = list(range(int(lo), int(hi) + 1))
        fields[item_id] = st.one_of(st.none(), st.sampled_from(choices))
    return st.fixed_dictionaries(fields)


@pytest.mark.parametrize("instrument_id", sorted(INSTRUMENTS))
def test_single_and_frame_scoring_agree(instrument_id):
    instrument = INSTRUMENTS[instrument_id]

    @settings(max_examples=60, deadline=None)
    @given(answers_for(instrument))
    def check(values):
        single = score_response(instrument, values)
        frame = score_frame(instrument, pd.DataFrame([values])).iloc[0]
        assert set(single) == set(frame.index)
        for score_id, value in single.items():
            expected = frame[score_id]
            if math.isnan(expected):
                assert value is None, score_id
            else:
                assert value == pytest.approx(expected, rel=1e-12, abs=1e-12), score_id

    check()


def test_single_scoring_refuses_out_of_range_like_the_frame():
    instrument = INSTRUMENTS["employee_followup"]
    with pytest.raises(ValueError, match="all_01"):
        score_response(instrument, {"all_01": 9})
    with pytest.raises(ValueError, match="all_01"):
        score_frame(instrument, pd.DataFrame([{"all_01": 9}]))
    with pytest.raises(ValueError, match="not numbers"):
        score_response(instrument, {"all_01": "veel"})
