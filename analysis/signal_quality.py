"""Are the signals right? Sensitivity, positive predictive value and lead time of each signal
for job loss within a horizon (90 days by default), from a history of firings.

- A *firing* is one row of :func:`analysis.signals.all_signals`. It is a true positive when the
  trajectory's job was lost within ``horizon`` days after it fired (on the day itself counts).
  A firing whose horizon has not passed yet on ``as_of`` and that was not followed by a loss
  has no known outcome and is left out of the PPV.
- A *job loss* is detected by a signal when the signal fired in the ``horizon`` days up to the
  loss. Sensitivity = detected losses / all losses; the lead time is the days from the first
  such firing to the loss (median).

As in Bybee, Lambert & Eggett's check of the OQ-45's expected-recovery curves, these figures
say how far a signal can be trusted as a prompt; they are not a validated prediction model.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from analysis.signals import SIGNALS
from analysis.validation import require_columns

QUALITY_COLUMNS = [
    "signal",
    "firings",
    "firings_known",
    "true_positives",
    "ppv",
    "job_losses",
    "detected",
    "sensitivity",
    "lead_days_median",
]


def signal_quality(
    signals: pd.DataFrame,
    trajectories: pd.DataFrame,
    *,
    as_of: dt.date,
    horizon_days: int = 90,
) -> pd.DataFrame:
    """Sensitivity, PPV and lead time of each signal for job loss within ``horizon_days``.

    Parameters
    ----------
    signals : DataFrame
        Firings (``analysis.signals.SIGNAL_COLUMNS``; trajectory_id, signal, level, fired_on).
    trajectories : DataFrame
        trajectory_id, end_date, end_reason (``job_loss`` marks a lost job).

    Returns
    -------
    DataFrame
        One row per signal, then ``any`` (any signal) and ``any_red`` (any red one): signal,
        firings, firings_known (firings whose outcome is known), true_positives, ppv,
        job_losses, detected, sensitivity, lead_days_median (NaN where undefined).
    """
    require_columns(signals, ["trajectory_id", "signal", "level", "fired_on"], "signal_quality")
    require_columns(trajectories, ["trajectory_id", "end_date", "end_reason"], "signal_quality")
    today = pd.Timestamp(as_of)
    losses = trajectories.loc[
        (trajectories["end_reason"] == "job_loss") & trajectories["end_date"].notna(),
        ["trajectory_id", "end_date"],
    ].assign(loss=lambda f: pd.to_datetime(f["end_date"]))[["trajectory_id", "loss"]]
    losses = losses[losses["loss"] <= today]
    fired = signals[["trajectory_id", "signal", "level", "fired_on"]].copy()
    fired["fired_on"] = pd.to_datetime(fired["fired_on"])
    horizon = pd.Timedelta(days=horizon_days)
    groups = [(s, fired[fired["signal"] == s]) for s in SIGNALS]
    groups += [("any", fired), ("any_red", fired[fired["level"] == "red"])]
    rows = []
    for name, f in groups:
        joined = f.merge(losses, on="trajectory_id", how="left")
        # only losses on or after the firing count; a firing after the loss tells nothing
        after = joined["loss"].notna() & (joined["loss"] >= joined["fired_on"])
        positive = after & (joined["loss"] - joined["fired_on"] <= horizon)
        known = positive | (joined["fired_on"] + horizon <= today)
        n_known = int(known.sum())
        tp = int(positive.sum())
        in_window = f.merge(losses, on="trajectory_id")
        in_window = in_window[
            (in_window["fired_on"] <= in_window["loss"])
            & (in_window["loss"] - in_window["fired_on"] <= horizon)
        ]
        first = in_window.groupby("trajectory_id").agg(
            first=("fired_on", "min"), loss=("loss", "first")
        )
        lead = (first["loss"] - first["first"]).dt.days
        n_loss = len(losses)
        rows.append((
            name, len(f), n_known, tp, tp / n_known if n_known else np.nan, n_loss, len(first),
            len(first) / n_loss if n_loss else np.nan, float(lead.median()) if len(lead) else np.nan,
        ))  # fmt: skip
    return pd.DataFrame(rows, columns=QUALITY_COLUMNS)


def base_rate(
    trajectories: pd.DataFrame, *, as_of: dt.date, horizon_days: int = 90, every_days: int = 30
) -> float:
    """The share of moments (every ``every_days`` from each start, while the trajectory ran)
    that a job loss followed within ``horizon_days``: what a signal fired at random would
    reach as its PPV. Moments whose horizon has not passed on ``as_of`` are left out, unless
    the loss came within it.

    Needs trajectory_id, start_date, end_date, end_reason.
    """
    require_columns(trajectories, ["start_date", "end_date", "end_reason"], "base_rate")
    today = pd.Timestamp(as_of)
    horizon = pd.Timedelta(days=horizon_days)
    hits = total = 0
    for t in trajectories.itertuples(index=False):
        start = pd.Timestamp(t.start_date)
        end = (
            pd.Timestamp(t.end_date)
            if pd.notna(t.end_date) and pd.Timestamp(t.end_date) <= today
            else None
        )
        loss = end if end is not None and t.end_reason == "job_loss" else None
        stop = end if end is not None else today
        moments = pd.date_range(start, stop, freq=f"{every_days}D", inclusive="left")
        for m in moments:
            hit = loss is not None and loss - m <= horizon
            if hit or m + horizon <= today:
                total += 1
                hits += int(hit)
    return hits / total if total else float("nan")


def follow_up(signals: pd.DataFrame, seen: pd.DataFrame) -> pd.DataFrame:
    """How many of each signal's firings were seen, and how fast.

    Parameters
    ----------
    signals : DataFrame
        Firings (trajectory_id, signal, rule, fired_on).
    seen : DataFrame
        Acknowledgements (trajectory_id, signal, rule, fired_on, seen_at, action).

    Returns
    -------
    DataFrame
        One row per signal with firings: signal, firings, clients (trajectories with a firing),
        seen, seen_share, days_to_seen_median (from firing to the day it was marked seen),
        with_action (seen with an action recorded).
    """
    require_columns(signals, ["trajectory_id", "signal", "rule", "fired_on"], "follow_up")
    cols = [
        "signal",
        "firings",
        "clients",
        "seen",
        "seen_share",
        "days_to_seen_median",
        "with_action",
    ]
    if signals.empty:
        return pd.DataFrame(columns=cols)
    keys = ["trajectory_id", "signal", "rule", "fired_on"]
    f = signals[keys].assign(fired_on=pd.to_datetime(signals["fired_on"]))
    if seen is not None and not seen.empty:
        s = seen.assign(fired_on=pd.to_datetime(seen["fired_on"]))
        s = s.assign(
            seen_day=pd.to_datetime(s["seen_at"], utc=True).dt.tz_localize(None).dt.normalize()
        )
        f = f.merge(s[[*keys, "seen_day", "action"]], on=keys, how="left")
    else:
        f = f.assign(seen_day=pd.NaT, action=None)
    f["days"] = (f["seen_day"] - f["fired_on"]).dt.days
    rows = []
    for name, g in f.groupby("signal", sort=False):
        n_seen = int(g["seen_day"].notna().sum())
        rows.append((
            name, len(g), int(g["trajectory_id"].nunique()), n_seen, n_seen / len(g),
            float(g["days"].median()) if n_seen else np.nan, int(g["action"].notna().sum()),
        ))  # fmt: skip
    out = pd.DataFrame(rows, columns=cols)
    order = {s: i for i, s in enumerate(SIGNALS)}
    return out.sort_values("signal", key=lambda c: c.map(order)).reset_index(drop=True)
