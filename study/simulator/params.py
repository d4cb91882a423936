"""Parameters of a simulated cohort, with defaults taken from the literature where it reports them.

Sources
-------
Trimbos
    de Lange, A., Michon, H., van Erp, N. & Kroon, H. (2020). *Bijdrage van jobcoaches aan
    duurzame inzetbaarheid op de arbeidsmarkt.* Utrecht: Trimbos-instituut. 134 coaching
    trajectories of young employees with a psychological vulnerability, 84 jobcoaches, followed
    for six months; 88% still in paid work at six months; about 24 contract hours a week; about a
    quarter took a career step (more hours or another department); in half of the trajectories a
    colleague acted as maatje; sustainable work went with a good match, more intensive coaching
    and a klik between jobcoach and employee.
Regioplan
    Regioplan (2014). *Jobcoaching in Nederland.* The eight task categories of jobcoaches
    (``study.vocab.Activity``); on-the-job guidance and communication with the supervisor are
    the most frequent.
Assumption
    Not reported in the sources; a plausible value chosen so that the analyses have something to
    recover. Effects are "truths" of the simulation, not findings.

Default values
--------------
=============================  =========  ======================================  ==========
parameter                      default    meaning                                 source
=============================  =========  ======================================  ==========
n_trajectories                 134        coaching trajectories enrolled          Trimbos
n_coaches                      84         jobcoaches                              Trimbos
months                         12         simulated months                        Trimbos (6) x2
recruitment_months             6          months over which trajectories start    Assumption
age_min, age_max               18, 35     age range at enrolment (young adults)   Trimbos
retention_6m                   0.88       P(no job loss by 6 months)              Trimbos
contract_hours_mean            24         contract hours a week                   Trimbos
career_step_6m                 0.25       P(more hours or other dept by 6 m)      Trimbos
share_maatje                   0.50       share with a buddy colleague            Trimbos
hr_klik                        0.60       HR job loss per SD of klik              Assumption
hr_intensity                   0.75       HR job loss per SD of intensity         Assumption
hr_match                       0.65       HR job loss per SD of match             Assumption
weibull_shape                  0.8        shape of the job-loss hazard            Assumption
capability_mean                3.5        mean capability count (0-7) at start    Assumption
capability_slope_per_year      0.3        change per year                         Assumption
capability_klik etc.           0.4/0.3/.5 effect per SD on capability count       Assumption
capability_icc_coach           0.10       share of variance at jobcoach level     Assumption
capability_after_job_loss      -1.5       shift of the count after job loss       Assumption
contacts_per_week_start        0.9        contacts a week at the start            Assumption
intensity_half_life_months     4          intensity halves every 4 months         Assumption
response_employee etc.         .80/.90/.65  response rates employee/coach/employer  Assumption
=============================  =========  ======================================  ==========
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: Regioplan (2014) task categories with assumed shares of contacts (most frequent first).
DEFAULT_ACTIVITY_SHARES: dict[str, float] = {
    "on_the_job_guidance": 0.30,
    "supervisor_communication": 0.22,
    "self_reliance": 0.14,
    "employer_client_problems": 0.10,
    "private_practical": 0.10,
    "training_needs": 0.06,
    "finding_workplace": 0.04,
    "placement": 0.04,
}


class SimulationParams(BaseModel):
    """Everything that shapes a simulated cohort; the same parameters and seed give the same cohort.

    See the module docstring for the sources of the defaults. Hazard ratios and effects are per
    standard deviation of the latent trait (klik, coaching intensity, match quality), each of
    which has mean 0 and SD 1 over trajectories (jobcoach part included).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = 1
    n_trajectories: int = Field(134, ge=1)
    n_coaches: int = Field(84, ge=1)
    n_organisations: int = Field(12, ge=1)
    months: int = Field(12, ge=1, le=60)
    start_date: dt.date = dt.date(2025, 1, 6)
    recruitment_months: float = Field(6.0, gt=0)
    wave_months: tuple[int, ...] | None = Field(
        None, description="months of the waves after T0; None: the default protocol"
    )
    study_code: str = "DEMO"
    study_name: str = "Klik demonstratiestudie (gesimuleerd)"

    # participants
    age_min: int = 18
    age_max: int = 35
    share_female: float = 0.42
    share_doelgroepregister: float = 0.6
    benefit_shares: dict[str, float] = Field(
        default_factory=lambda: {
            "wajong": 0.55,
            "bijstand": 0.20,
            "wia_wga": 0.06,
            "ww": 0.05,
            "wsw": 0.04,
            "none": 0.10,
        }
    )

    # jobcoaches
    share_external_coach: float = 0.6
    method_shares: dict[str, float] = Field(
        default_factory=lambda: {
            "supported_employment": 0.25,
            "ips": 0.20,
            "ivb": 0.10,
            "itb": 0.05,
            "eim": 0.05,
            "other": 0.15,
            "none": 0.20,
        }
    )

    # trajectories
    funder_shares: dict[str, float] = Field(
        default_factory=lambda: {"uwv": 0.6, "gemeente": 0.3, "werkgever": 0.1}
    )
    employment_form_shares: dict[str, float] = Field(
        default_factory=lambda: {
            "regulier": 0.45,
            "begeleid_werken": 0.25,
            "individuele_detachering": 0.10,
            "groepsdetachering": 0.05,
            "intern_sw": 0.05,
            "proefplaatsing": 0.10,
        }
    )
    contract_hours_mean: float = 24.0
    contract_hours_sd: float = 7.0
    loonwaarde_mean: float = 65.0
    loonwaarde_sd: float = 15.0
    share_maatje: float = 0.5
    employers_per_trajectory: float = Field(0.8, gt=0, le=1)

    # job loss (survival truth)
    retention_6m: float = Field(0.88, gt=0, lt=1)
    weibull_shape: float = Field(0.8, gt=0)
    hr_klik: float = Field(0.60, gt=0)
    hr_intensity: float = Field(0.75, gt=0)
    hr_match: float = Field(0.65, gt=0)
    p_new_job_after_loss: float = Field(0.3, ge=0, le=1)

    # competing ends of coaching, probability by 6 months if nothing else happened
    independent_6m: float = 0.12
    dropout_6m: float = 0.04
    moved_6m: float = 0.015
    other_end_6m: float = 0.015
    hr_dropout_klik: float = 0.7
    p_withdraw_consent: float = Field(0.01, ge=0, le=1)

    # career steps and sick leave
    career_step_6m: float = Field(0.25, ge=0, lt=1)
    hr_career_step_match: float = 1.3
    share_step_hours: float = 0.6
    sick_episodes_per_year: float = 0.8
    sick_mean_days: float = 14.0

    # sustainable employability: capability count 0-7 (Capability Set for Work)
    capability_mean: float = 3.5
    capability_slope_per_year: float = 0.3
    capability_klik: float = 0.4
    capability_intensity: float = 0.3
    capability_match: float = 0.5
    capability_sd_person: float = 1.0
    capability_sd_residual: float = 0.8
    capability_icc_coach: float = Field(0.10, ge=0, lt=1)
    capability_after_job_loss: float = -1.5

    # the jobcoach part of the latent traits (share of variance between coaches)
    klik_icc_coach: float = Field(0.15, ge=0, lt=1)
    intensity_icc_coach: float = Field(0.30, ge=0, lt=1)

    # coaching contacts
    contacts_per_week_start: float = Field(0.9, gt=0)
    intensity_sd_log: float = Field(0.4, ge=0)
    intensity_half_life_months: float = Field(4.0, gt=0)
    minutes_median: float = 45.0
    activity_shares: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_ACTIVITY_SHARES))
    mode_shares: dict[str, float] = Field(
        default_factory=lambda: {"on_site": 0.45, "phone": 0.30, "video": 0.10, "email": 0.15}
    )
    with_whom_shares: dict[str, float] = Field(
        default_factory=lambda: {
            "employee": 0.55,
            "supervisor": 0.20,
            "colleagues": 0.05,
            "several": 0.20,
        }
    )

    # response behaviour
    response_employee: float = Field(0.80, gt=0, lt=1)
    response_jobcoach: float = Field(0.90, gt=0, lt=1)
    response_employer: float = Field(0.65, gt=0, lt=1)
    response_or_klik: float = Field(1.6, gt=0)
    response_or_after_job_loss: float = Field(0.3, gt=0)
    response_or_per_wave: float = Field(0.9, gt=0)
    share_before_first_reminder: float = 0.55
    share_after_second_reminder: float = 0.20

    # running the simulation
    tick_every_days: int | None = Field(
        None, ge=1, le=7, description="days between scheduler ticks; None: 1, or 7 above 20,000"
    )
    send_mail: bool | None = Field(
        None, description="deliver mail to files; None: only up to 5,000 trajectories"
    )
    days_per_transaction: int | None = Field(
        None,
        ge=1,
        le=31,
        description="simulated days per database transaction; None: 1 while mail is delivered, else 7",
    )
    actor: str = "simulator"

    @model_validator(mode="after")
    def _check(self) -> SimulationParams:
        for name in (
            "benefit_shares",
            "method_shares",
            "funder_shares",
            "employment_form_shares",
            "activity_shares",
            "mode_shares",
            "with_whom_shares",
        ):
            shares = getattr(self, name)
            if not shares or any(v < 0 for v in shares.values()) or sum(shares.values()) <= 0:
                raise ValueError(f"{name}: shares must be non-negative with a positive sum")
        if self.age_max < self.age_min:
            raise ValueError("age_max must not be below age_min")
        return self

    @property
    def tick_days(self) -> int:
        """Days between scheduler ticks."""
        if self.tick_every_days is not None:
            return self.tick_every_days
        return 1 if self.n_trajectories <= 20_000 else 7

    @property
    def deliver_mail(self) -> bool:
        """Whether mail is delivered (to files when no SMTP server is set)."""
        return self.send_mail if self.send_mail is not None else self.n_trajectories <= 5_000

    @property
    def transaction_days(self) -> int:
        """Simulated days written in one transaction (mail is delivered after each transaction)."""
        if self.days_per_transaction is not None:
            return self.days_per_transaction
        return 1 if self.deliver_mail else 7

    @property
    def end_date(self) -> dt.date:
        """The last simulated day (exclusive)."""
        return add_months(self.start_date, self.months)


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus whole calendar months, clamped to the month's last day."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)  # unreachable: day 28 exists in every month
