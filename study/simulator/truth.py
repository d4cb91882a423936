"""The true state of a simulated cohort: latent traits and event times, drawn with numpy.

Pure: no database. Everything is a deterministic function of the parameters (and their seed).
Times are days since the start of the trajectory (floats) unless named ``*_offset`` (whole days
since the start of the study).

The truths that analyses should recover
---------------------------------------
* Job loss: Weibull proportional hazards, ``h(t) = lambda k t^(k-1) exp(lp)`` with
  ``lp = log(hr_klik) klik + log(hr_intensity) intensity + log(hr_match) match``; ``lambda`` is
  calibrated so that the share without job loss at six months is ``retention_6m``.
* Sustainable employability: the capability count (0-7) at time ``t`` (years) is
  ``round(capability_mean + slope t + b_klik klik + b_int intensity + b_match match
  + u_coach + u_person + e)``, clipped to 0-7, shifted by ``capability_after_job_loss`` once
  the job is lost. ``u_coach`` holds ``capability_icc_coach`` of the random-effect variance.
* Klik and intensity have a jobcoach part (``klik_icc_coach``, ``intensity_icc_coach``); all
  three traits have SD 1 over trajectories.
* Coaching intensity (contacts a week) starts at ``contacts_per_week_start`` times
  ``exp(intensity_sd_log intensity)`` (mean-preserving) and halves every
  ``intensity_half_life_months``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from study.simulator.params import SimulationParams

DAYS_PER_MONTH = 365.25 / 12
SIX_MONTHS = 6 * DAYS_PER_MONTH
MAX_WAVES = 16
RESPONDENTS = ("employee", "jobcoach", "employer")


@dataclass(frozen=True)
class Coaches:
    """One row per jobcoach."""

    external: np.ndarray
    method: np.ndarray
    years_experience: np.ndarray
    organisation: np.ndarray
    u_klik: np.ndarray
    u_intensity: np.ndarray
    u_capability: np.ndarray


@dataclass(frozen=True)
class Trajectories:
    """One row per trajectory; re-placements after job loss follow the enrolled trajectories.

    ``parent`` is -1 for an enrolled trajectory, else the row of the trajectory whose job was
    lost (same participant and jobcoach, another employer).
    """

    parent: np.ndarray
    participant: np.ndarray
    coach: np.ndarray
    employer: np.ndarray
    start_offset: np.ndarray
    birth_year: np.ndarray
    gender: np.ndarray
    benefit: np.ndarray
    doelgroepregister: np.ndarray
    funder: np.ndarray
    employment_form: np.ndarray
    contract_hours: np.ndarray
    loonwaarde: np.ndarray
    maatje: np.ndarray
    klik: np.ndarray
    intensity: np.ndarray
    match: np.ndarray
    wellbeing: np.ndarray
    u_person: np.ndarray
    job_loss: np.ndarray
    job_end_reason: np.ndarray
    other_end: np.ndarray
    other_end_reason: np.ndarray
    end: np.ndarray
    end_reason: np.ndarray
    step: np.ndarray
    step_kind: np.ndarray
    step_hours: np.ndarray
    withdraw: np.ndarray
    response_u: np.ndarray
    response_delay: np.ndarray
    capability_noise: np.ndarray

    def __len__(self) -> int:
        return len(self.parent)


@dataclass(frozen=True)
class Contacts:
    """One row per coaching contact, sorted by trajectory and day."""

    trajectory: np.ndarray
    day: np.ndarray
    minutes: np.ndarray
    mode: np.ndarray
    with_whom: np.ndarray
    activity: np.ndarray


@dataclass(frozen=True)
class SickLeave:
    """One row per sick-leave episode (days since the trajectory's start; end exclusive)."""

    trajectory: np.ndarray
    start: np.ndarray
    end: np.ndarray


@dataclass(frozen=True)
class Truth:
    """The whole simulated cohort."""

    params: SimulationParams
    coaches: Coaches
    trajectories: Trajectories
    contacts: Contacts
    sick_leave: SickLeave
    n_participants: int
    n_employers: int


def generate(params: SimulationParams) -> Truth:
    """Draw a cohort: coaches, trajectories with event times, contacts and sick leave."""
    rng = np.random.default_rng(params.seed)
    coaches = _coaches(rng, params)
    trajectories = _trajectories(rng, params, coaches)
    horizon = _horizon_days(params, trajectories.start_offset)
    contacts = _contacts(rng, params, trajectories, horizon)
    sick = _sick_leave(rng, params, trajectories, horizon)
    return Truth(
        params=params,
        coaches=coaches,
        trajectories=trajectories,
        contacts=contacts,
        sick_leave=sick,
        n_participants=int(trajectories.participant.max()) + 1,
        n_employers=int(trajectories.employer.max()) + 1,
    )


def _choice(rng: np.random.Generator, shares: dict[str, float], n: int) -> np.ndarray:
    keys = list(shares)
    p = np.array([shares[k] for k in keys], dtype=float)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=n, p=p / p.sum())]


def _coaches(rng: np.random.Generator, p: SimulationParams) -> Coaches:
    n = p.n_coaches
    return Coaches(
        external=rng.random(n) < p.share_external_coach,
        method=_choice(rng, p.method_shares, n),
        years_experience=np.clip(rng.gamma(2.0, 4.0, n).round(), 0, 40).astype(int),
        organisation=rng.integers(0, p.n_organisations, n),
        u_klik=rng.standard_normal(n),
        u_intensity=rng.standard_normal(n),
        u_capability=rng.standard_normal(n),
    )


def calibrate_scale(target: float, sd_lp: float, t: float, shape: float) -> float:
    """The Weibull scale ``lambda`` with ``mean S(t) = target`` over ``lp ~ N(0, sd_lp^2)``.

    ``S(t) = exp(-lambda t^shape exp(lp))``; the mean over ``lp`` uses Gauss-Hermite quadrature.
    """
    nodes, weights = np.polynomial.hermite_e.hermegauss(60)
    weights = weights / weights.sum()
    lp = nodes * sd_lp
    lo, hi = -30.0, 10.0  # log(lambda t^shape)
    for _ in range(200):
        mid = (lo + hi) / 2
        survival = float(np.sum(weights * np.exp(-np.exp(mid + lp))))
        if survival > target:
            lo = mid
        else:
            hi = mid
    return math.exp((lo + hi) / 2) / t**shape


def calibrate_logit(target: float, slope: float) -> float:
    """The intercept ``a`` with ``mean logistic(a + slope z) = target`` over ``z ~ N(0, 1)``."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(60)
    weights = weights / weights.sum()
    lo, hi = -20.0, 20.0
    for _ in range(200):
        mid = (lo + hi) / 2
        mean = float(np.sum(weights / (1 + np.exp(-(mid + slope * nodes)))))
        if mean < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _weibull_times(
    rng: np.random.Generator, scale: float, shape: float, lp: np.ndarray
) -> np.ndarray:
    return (rng.standard_exponential(len(lp)) / (scale * np.exp(lp))) ** (1 / shape)


def _trait(
    rng: np.random.Generator, coach_u: np.ndarray, coach: np.ndarray, icc: float
) -> np.ndarray:
    return math.sqrt(icc) * coach_u[coach] + math.sqrt(1 - icc) * rng.standard_normal(len(coach))


def _trajectories(rng: np.random.Generator, p: SimulationParams, c: Coaches) -> Trajectories:
    n = p.n_trajectories
    recruit_days = p.recruitment_months * DAYS_PER_MONTH
    start = np.sort(np.floor(rng.random(n) * recruit_days)).astype(int)
    # every coach gets at least one client when there are enough trajectories
    coach = (
        rng.permutation(np.arange(n) % p.n_coaches)
        if n >= p.n_coaches
        else rng.integers(0, p.n_coaches, n)
    )
    n_employers = max(1, round(n * p.employers_per_trajectory))
    employer = np.where(np.arange(n) < n_employers, np.arange(n), rng.integers(0, n_employers, n))
    base = _outcomes(rng, p, c, coach, start, np.arange(n), employer, parent=np.full(n, -1))

    # re-placement: after a job loss some find a new job, coached again by the same jobcoach
    lost = np.isfinite(base["job_loss"]) & (base["end_reason"] == "job_loss")
    again = lost & (rng.random(n) < p.p_new_job_after_loss)
    idx = np.flatnonzero(again)
    delay = np.ceil(rng.gamma(2.0, 30.0, len(idx))).astype(int)
    child_start = start[idx] + np.ceil(base["end"][idx]).astype(int) + delay
    keep = child_start < _days_in_study(p)
    idx, child_start = idx[keep], child_start[keep]
    order = np.argsort(child_start, kind="stable")
    idx, child_start = idx[order], child_start[order]
    child_employer = n_employers + np.arange(len(idx))
    child = _outcomes(
        rng,
        p,
        c,
        coach[idx],
        child_start,
        idx,
        child_employer,
        parent=idx,
        inherit={k: base[k][idx] for k in ("klik", "intensity", "wellbeing", "u_person")},
    )
    # consent belongs to the participant: a re-placement shares its parent's withdrawal
    child["withdraw"] = base["withdraw"][idx] - (child_start - start[idx])
    merged = {k: np.concatenate([base[k], child[k]]) for k in base}
    return Trajectories(**merged)


def _outcomes(
    rng: np.random.Generator,
    p: SimulationParams,
    c: Coaches,
    coach: np.ndarray,
    start: np.ndarray,
    participant: np.ndarray,
    employer: np.ndarray,
    *,
    parent: np.ndarray,
    inherit: dict[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    n = len(coach)
    t = dict(inherit or {})
    if "klik" not in t:
        t["klik"] = _trait(rng, c.u_klik, coach, p.klik_icc_coach)
        t["intensity"] = _trait(rng, c.u_intensity, coach, p.intensity_icc_coach)
        t["wellbeing"] = rng.standard_normal(n)
        t["u_person"] = p.capability_sd_person * rng.standard_normal(n)
    match = rng.standard_normal(n)
    age = rng.integers(p.age_min, p.age_max + 1, n)
    hours = np.clip(np.round(rng.normal(p.contract_hours_mean, p.contract_hours_sd, n)), 8, 40)

    lp = (
        math.log(p.hr_klik) * t["klik"]
        + math.log(p.hr_intensity) * t["intensity"]
        + math.log(p.hr_match) * match
    )
    sd_lp = math.sqrt(
        math.log(p.hr_klik) ** 2 + math.log(p.hr_intensity) ** 2 + math.log(p.hr_match) ** 2
    )
    scale = calibrate_scale(p.retention_6m, sd_lp, SIX_MONTHS, p.weibull_shape)
    job_loss = _weibull_times(rng, scale, p.weibull_shape, lp)

    def exp_rate(p6: float) -> float:
        return -math.log(1 - p6) / SIX_MONTHS

    independent = _weibull_times(
        rng, -math.log(1 - p.independent_6m) / SIX_MONTHS**2, 2.0, np.zeros(n)
    )
    dropout = rng.standard_exponential(n) / (
        exp_rate(p.dropout_6m) * np.exp(math.log(p.hr_dropout_klik) * t["klik"])
    )
    moved = rng.standard_exponential(n) / exp_rate(p.moved_6m)
    other = rng.standard_exponential(n) / exp_rate(p.other_end_6m)
    others = np.stack([independent, dropout, moved, other])
    reasons = np.array(["working_independently", "dropout", "moved", "other"], dtype=object)
    which = np.argmin(others, axis=0)
    other_end = others[which, np.arange(n)]
    end = np.ceil(np.minimum(job_loss, other_end))
    end_reason = np.where(job_loss <= other_end, "job_loss", reasons[which]).astype(object)
    job_end_reason = _choice(
        rng,
        {
            "dismissed": 0.2,
            "contract_not_renewed": 0.35,
            "resigned": 0.2,
            "mutual": 0.1,
            "health": 0.1,
            "other": 0.05,
        },
        n,
    )

    step_lp = math.log(p.hr_career_step_match) * match
    step_scale = calibrate_scale(
        1 - p.career_step_6m, math.log(p.hr_career_step_match), SIX_MONTHS, 1.0
    )
    step = _weibull_times(rng, step_scale, 1.0, step_lp)
    step_kind = np.where(rng.random(n) < p.share_step_hours, "hours_change", "department_change")
    step_hours = np.minimum(hours + rng.choice([4, 8], n), 40)

    withdraw = np.where(rng.random(n) < p.p_withdraw_consent, rng.random(n) * 365.0, np.inf)
    r = len(RESPONDENTS)
    return {
        "parent": parent,
        "participant": participant,
        "coach": coach,
        "employer": employer,
        "start_offset": start,
        "birth_year": (p.start_date.year - age).astype(int),
        "gender": _choice(
            rng, {"female": p.share_female, "male": 0.98 - p.share_female, "other": 0.02}, n
        ),
        "benefit": _choice(rng, p.benefit_shares, n),
        "doelgroepregister": rng.random(n) < p.share_doelgroepregister,
        "funder": _choice(rng, p.funder_shares, n),
        "employment_form": _choice(rng, p.employment_form_shares, n),
        "contract_hours": hours,
        "loonwaarde": np.clip(np.round(rng.normal(p.loonwaarde_mean, p.loonwaarde_sd, n)), 20, 100),
        "maatje": rng.random(n) < p.share_maatje,
        "klik": t["klik"],
        "intensity": t["intensity"],
        "match": match,
        "wellbeing": t["wellbeing"],
        "u_person": t["u_person"],
        "job_loss": job_loss,
        "job_end_reason": job_end_reason,
        "other_end": other_end,
        "other_end_reason": reasons[which],
        "end": end,
        "end_reason": end_reason,
        "step": step,
        "step_kind": step_kind.astype(object),
        "step_hours": step_hours,
        "withdraw": withdraw,
        "response_u": rng.random((n, MAX_WAVES, r)),
        "response_delay": rng.random((n, MAX_WAVES, r)),
        "capability_noise": p.capability_sd_residual * rng.standard_normal((n, MAX_WAVES)),
    }


def _days_in_study(p: SimulationParams) -> int:
    return (p.end_date - p.start_date).days


def _horizon_days(p: SimulationParams, start_offset: np.ndarray) -> np.ndarray:
    return (_days_in_study(p) - start_offset).astype(float)


def _contacts(
    rng: np.random.Generator, p: SimulationParams, t: Trajectories, horizon: np.ndarray
) -> Contacts:
    decay = math.log(2) / (p.intensity_half_life_months * DAYS_PER_MONTH)
    sd = p.intensity_sd_log
    rate = p.contacts_per_week_start / 7 * np.exp(sd * t.intensity - sd**2 / 2)
    length = np.maximum(np.minimum(np.minimum(t.end, horizon), t.withdraw), 0.0)
    mass = 1 - np.exp(-decay * length)
    counts = rng.poisson(rate * mass / decay)
    traj = np.repeat(np.arange(len(t)), counts)
    u = rng.random(len(traj))
    day = np.floor(-np.log1p(-u * mass[traj]) / decay).astype(int)
    day = np.minimum(day, np.floor(length[traj]).astype(int))
    order = np.lexsort((day, traj))
    traj, day = traj[order], day[order]
    m = len(traj)
    minutes = np.clip(
        np.round(p.minutes_median * np.exp(0.5 * rng.standard_normal(m)) / 5) * 5, 5, 480
    )
    return Contacts(
        trajectory=traj,
        day=day,
        minutes=minutes.astype(int),
        mode=_choice(rng, p.mode_shares, m),
        with_whom=_choice(rng, p.with_whom_shares, m),
        activity=_choice(rng, p.activity_shares, m),
    )


def _sick_leave(
    rng: np.random.Generator, p: SimulationParams, t: Trajectories, horizon: np.ndarray
) -> SickLeave:
    length = np.maximum(np.minimum(np.minimum(t.end, horizon), t.withdraw), 0.0)
    rate = p.sick_episodes_per_year / 365.25 * np.exp(-0.3 * t.wellbeing)
    counts = rng.poisson(rate * length)
    traj = np.repeat(np.arange(len(t)), counts)
    start = np.floor(rng.random(len(traj)) * length[traj]).astype(int)
    duration = 1 + np.floor(rng.exponential(p.sick_mean_days - 1, len(traj))).astype(int)
    order = np.lexsort((start, traj))
    traj, start, duration = traj[order], start[order], duration[order]
    # drop episodes that begin before the previous one of the same trajectory ended
    keep = np.ones(len(traj), dtype=bool)
    last_end: dict[int, int] = {}
    for i in range(len(traj)):
        k = int(traj[i])
        if start[i] <= last_end.get(k, -1):
            keep[i] = False
        else:
            last_end[k] = int(start[i] + duration[i])
    return SickLeave(trajectory=traj[keep], start=start[keep], end=(start + duration)[keep])


def capability_star(
    p: SimulationParams,
    t: Trajectories,
    coach_u: np.ndarray,
    row: int,
    wave: int,
    years: float,
    job_lost: bool,
) -> float:
    """The latent (unrounded) capability count of trajectory ``row`` at wave ``wave``."""
    sd_random = math.sqrt(p.capability_sd_person**2 + p.capability_sd_residual**2)
    sd_coach = math.sqrt(p.capability_icc_coach / (1 - p.capability_icc_coach)) * sd_random
    value = (
        p.capability_mean
        + p.capability_slope_per_year * years
        + p.capability_klik * t.klik[row]
        + p.capability_intensity * t.intensity[row]
        + p.capability_match * t.match[row]
        + sd_coach * coach_u[t.coach[row]]
        + t.u_person[row]
        + t.capability_noise[row, min(wave, MAX_WAVES - 1)]
    )
    return float(value + (p.capability_after_job_loss if job_lost else 0.0))


def capability_count(star: float) -> int:
    """The observed count (0-7) of a latent capability value."""
    return int(min(7, max(0, round(star))))


def response_intercepts(p: SimulationParams) -> dict[str, float]:
    """Logit intercepts per respondent so the response rate at the first wave, while employed,
    equals the parameter (the employee's depends on klik)."""
    return {
        "employee": calibrate_logit(p.response_employee, math.log(p.response_or_klik)),
        "jobcoach": calibrate_logit(p.response_jobcoach, 0.0),
        "employer": calibrate_logit(p.response_employer, 0.0),
    }


def response_probability(
    p: SimulationParams,
    intercepts: dict[str, float],
    respondent: str,
    *,
    klik: float,
    wave_index: int,
    job_lost: bool,
) -> float:
    """The probability that ``respondent`` answers a wave: lower after job loss (employee and
    employer), lower with a low klik (employee), and slowly lower at later waves."""
    logit = intercepts[respondent] + math.log(p.response_or_per_wave) * wave_index
    if respondent == "employee":
        logit += math.log(p.response_or_klik) * klik
    if job_lost and respondent != "jobcoach":
        logit += math.log(p.response_or_after_job_loss)
    return 1 / (1 + math.exp(-logit))


def response_delay_days(p: SimulationParams, u: float, window_days: int) -> int:
    """Days after opening that a respondent answers: before the first reminder (week 1), between
    the reminders (week 2), or after the second (the rest of the window)."""
    first, last = p.share_before_first_reminder, 1 - p.share_after_second_reminder
    if u < first:
        day = 7 * u / first
    elif u < last:
        day = 7 + 7 * (u - first) / (last - first)
    else:
        day = 14 + (window_days - 15) * (u - last) / (1 - last)
    return int(min(max(day, 0), max(window_days - 1, 0)))


def expected_job_retention(p: SimulationParams, days: float) -> float:
    """The share of trajectories without job loss ``days`` after their start, as the parameters
    imply (job loss not censored by other ends); ``retention_6m`` at six months."""
    sd_lp = math.sqrt(
        math.log(p.hr_klik) ** 2 + math.log(p.hr_intensity) ** 2 + math.log(p.hr_match) ** 2
    )
    scale = calibrate_scale(p.retention_6m, sd_lp, SIX_MONTHS, p.weibull_shape)
    nodes, weights = np.polynomial.hermite_e.hermegauss(60)
    weights = weights / weights.sum()
    return float(np.sum(weights * np.exp(-scale * days**p.weibull_shape * np.exp(nodes * sd_lp))))
