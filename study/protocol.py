"""The default wave protocol (Trimbos-style, extended) as plain data."""

from __future__ import annotations

from dataclasses import dataclass, field

from study.vocab import Respondent

DEFAULT_INSTRUMENTS: dict[Respondent, str] = {
    Respondent.EMPLOYEE: "employee_followup",
    Respondent.JOBCOACH: "jobcoach_followup",
    Respondent.EMPLOYER: "employer_followup",
}


@dataclass(frozen=True)
class WaveSpec:
    """One wave of a protocol, before it is stored."""

    code: str
    label: str
    offset_months: int
    anchor: str = "start"
    opens_days_before: int = 7
    reminder_days: tuple[int, ...] = (7, 14)
    closes_days_after: int = 28
    requires_active: bool = False
    instruments: dict[Respondent, str] = field(default_factory=lambda: dict(DEFAULT_INSTRUMENTS))


def default_waves(
    max_months: int = 24, every: int = 6, followup_after_end: int = 6
) -> list[WaveSpec]:
    """T0 at day 0, T1 at 3 months, T2 at 6 months, then every ``every`` months up to ``max_months``
    while the trajectory lasts, and a closing follow-up ``followup_after_end`` months after it ends.
    """
    waves = [
        WaveSpec("T0", "Nulmeting", 0, opens_days_before=0),
        WaveSpec("T1", "3 maanden", 3),
        WaveSpec("T2", "6 maanden", 6),
    ]
    months, index = 6 + every, 3
    while months <= max_months:
        waves.append(WaveSpec(f"T{index}", f"{months} maanden", months, requires_active=True))
        months += every
        index += 1
    if followup_after_end:
        waves.append(
            WaveSpec(
                "FU",
                f"Follow-up {followup_after_end} maanden na einde",
                followup_after_end,
                anchor="end",
            )
        )
    return waves
