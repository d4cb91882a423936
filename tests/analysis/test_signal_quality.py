"""Sensitivity, PPV and lead time of the signals, and their follow-up, on hand-made histories."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from analysis.signal_quality import follow_up, signal_quality

AS_OF = dt.date(2026, 1, 1)


def firings(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(
        [(t, s, lvl, "r", pd.Timestamp(d)) for t, s, lvl, d in rows],
        columns=["trajectory_id", "signal", "level", "rule", "fired_on"],
    )


TRAJ = pd.DataFrame(
    {
        "trajectory_id": [1, 2, 3, 4],
        "end_date": [
            pd.Timestamp(2025, 6, 1),
            pd.NaT,
            pd.Timestamp(2025, 5, 1),
            pd.Timestamp(2025, 12, 20),
        ],
        "end_reason": ["job_loss", None, "working_independently", "job_loss"],
    }
)


def row(table: pd.DataFrame, name: str) -> pd.Series:
    return table.set_index("signal").loc[name]


def test_ppv_sensitivity_and_lead_time() -> None:
    found = firings([
        (1, "sick_leave", "red", "2025-04-01"),  # 61 days before a loss: true positive
        (1, "sick_leave", "amber", "2025-01-01"),  # 151 days before: a false positive
        (2, "sick_leave", "amber", "2025-03-01"),  # no loss: false positive
        (3, "sick_leave", "amber", "2025-03-01"),  # another ending: false positive
        (4, "sick_leave", "amber", "2025-12-01"),  # 19 days before a loss: true positive
        (2, "sick_leave", "amber", "2025-12-15"),  # horizon not over, no loss: unknown
        (1, "sick_leave", "amber", "2025-07-01"),  # after the loss: false, it tells nothing
    ])  # fmt: skip
    table = signal_quality(found, TRAJ, as_of=AS_OF)
    sick = row(table, "sick_leave")
    assert sick["firings"] == 7 and sick["firings_known"] == 6
    assert sick["true_positives"] == 2 and sick["ppv"] == pytest.approx(2 / 6)
    assert sick["job_losses"] == 2 and sick["detected"] == 2 and sick["sensitivity"] == 1.0
    assert sick["lead_days_median"] == pytest.approx((61 + 19) / 2)
    # a signal that never fired: no PPV, sensitivity 0
    drop = row(table, "klik_drop")
    assert drop["firings"] == 0 and pd.isna(drop["ppv"]) and drop["sensitivity"] == 0
    red = row(table, "any_red")
    assert red["firings"] == 1 and red["detected"] == 1 and red["sensitivity"] == 0.5


def test_the_horizon_edge() -> None:
    exactly = firings([(1, "contact", "amber", "2025-03-03")])  # 90 days before 1 June
    assert row(signal_quality(exactly, TRAJ, as_of=AS_OF), "contact")["true_positives"] == 1
    one_more = firings([(1, "contact", "amber", "2025-03-02")])
    assert row(signal_quality(one_more, TRAJ, as_of=AS_OF), "contact")["true_positives"] == 0
    shorter = signal_quality(exactly, TRAJ, as_of=AS_OF, horizon_days=30)
    assert row(shorter, "contact")["true_positives"] == 0


def test_a_loss_after_as_of_is_not_known_yet() -> None:
    found = firings([(4, "contact", "amber", "2025-12-01")])
    table = signal_quality(found, TRAJ, as_of=dt.date(2025, 12, 10))
    assert row(table, "contact")["job_losses"] == 1  # trajectory 1 only
    assert row(table, "contact")["firings_known"] == 0


def test_follow_up_counts_seen_and_days() -> None:
    found = firings([
        (1, "sick_leave", "red", "2025-04-01"),
        (2, "sick_leave", "amber", "2025-03-01"),
        (2, "contact", "amber", "2025-03-01"),
    ])  # fmt: skip
    seen = pd.DataFrame({
        "trajectory_id": [1], "signal": ["sick_leave"], "rule": ["r"],
        "fired_on": [pd.Timestamp(2025, 4, 1)],
        "seen_at": [pd.Timestamp(2025, 4, 4, 10, tz="UTC")], "action": ["conversation"],
    })  # fmt: skip
    table = follow_up(found, seen).set_index("signal")
    assert list(table.index) == ["sick_leave", "contact"]
    assert table.loc["sick_leave", "seen"] == 1 and table.loc["sick_leave", "seen_share"] == 0.5
    assert table.loc["sick_leave", "days_to_seen_median"] == 3
    assert table.loc["sick_leave", "with_action"] == 1
    assert table.loc["contact", "seen"] == 0 and pd.isna(
        table.loc["contact", "days_to_seen_median"]
    )


def test_base_rate_counts_moments_followed_by_a_loss() -> None:
    from analysis.signal_quality import base_rate

    frame = pd.DataFrame({
        "trajectory_id": [1, 2],
        "start_date": [pd.Timestamp(2025, 1, 1), pd.Timestamp(2025, 1, 1)],
        "end_date": [pd.Timestamp(2025, 5, 1), pd.NaT],
        "end_reason": ["job_loss", None],
    })  # fmt: skip
    # trajectory 1: moments on days 0, 30, 60, 90 of 120; the last three lie within 90 days of
    # the loss. trajectory 2: moments every 30 days until 2 October (90 days before as_of).
    rate = base_rate(frame, as_of=dt.date(2025, 12, 31))
    n2 = len(pd.date_range("2025-01-01", "2025-10-02", freq="30D"))
    assert rate == pytest.approx(3 / (4 + n2))
    assert base_rate(frame.iloc[1:], as_of=dt.date(2025, 12, 31)) == 0
