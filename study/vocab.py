"""Controlled vocabularies of the study model, with Dutch and English labels.

The values are stored as text; the labels are what the UI and the exports show.
"""

from __future__ import annotations

from enum import StrEnum


class Labelled(StrEnum):
    """A string enum whose members carry a Dutch and an English label."""

    def label(self, lang: str = "nl") -> str:
        nl, en = _LABELS.get(self, (self.value, self.value))
        return nl if lang == "nl" else en


class OrganisationKind(Labelled):
    JOBCOACH_ORGANISATION = "jobcoachorganisatie"
    SW_COMPANY = "sw_bedrijf"
    MUNICIPALITY = "gemeente"
    UWV = "uwv"
    EMPLOYER = "werkgever"


class CoachType(Labelled):
    INTERNAL = "internal"
    EXTERNAL = "external"


class Method(Labelled):
    SUPPORTED_EMPLOYMENT = "supported_employment"
    IPS = "ips"
    IVB = "ivb"
    ITB = "itb"
    EIM = "eim"
    OTHER = "other"
    NONE = "none"


class Gender(Labelled):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class Benefit(Labelled):
    WAJONG = "wajong"
    WSW = "wsw"
    BIJSTAND = "bijstand"
    WIA_WGA = "wia_wga"
    WW = "ww"
    NONE = "none"


class Funder(Labelled):
    UWV = "uwv"
    MUNICIPALITY = "gemeente"
    EMPLOYER = "werkgever"


class EmploymentForm(Labelled):
    SUPPORTED_WORK = "begeleid_werken"
    INDIVIDUAL_SECONDMENT = "individuele_detachering"
    GROUP_SECONDMENT = "groepsdetachering"
    INTERNAL_SW = "intern_sw"
    REGULAR = "regulier"
    TRIAL_PLACEMENT = "proefplaatsing"


class EndReason(Labelled):
    """Competing outcomes of a trajectory."""

    WORKING_INDEPENDENTLY = "working_independently"
    JOB_LOSS = "job_loss"
    DROPOUT = "dropout"
    MOVED = "moved"
    OTHER = "other"


class ContactMode(Labelled):
    ON_SITE = "on_site"
    PHONE = "phone"
    VIDEO = "video"
    EMAIL = "email"


class ContactWith(Labelled):
    EMPLOYEE = "employee"
    SUPERVISOR = "supervisor"
    COLLEAGUES = "colleagues"
    SEVERAL = "several"


class Activity(Labelled):
    """The eight task categories of jobcoaches (Regioplan 2014)."""

    ON_THE_JOB_GUIDANCE = "on_the_job_guidance"
    SUPERVISOR_COMMUNICATION = "supervisor_communication"
    SELF_RELIANCE = "self_reliance"
    EMPLOYER_CLIENT_PROBLEMS = "employer_client_problems"
    TRAINING_NEEDS = "training_needs"
    PLACEMENT = "placement"
    FINDING_WORKPLACE = "finding_workplace"
    PRIVATE_PRACTICAL = "private_practical"


class EventKind(Labelled):
    JOB_START = "job_start"
    JOB_END = "job_end"
    HOURS_CHANGE = "hours_change"
    DEPARTMENT_CHANGE = "department_change"
    TASK_CHANGE = "task_change"
    SICK_LEAVE_START = "sick_leave_start"
    SICK_LEAVE_END = "sick_leave_end"


class JobEndReason(Labelled):
    DISMISSED = "dismissed"
    CONTRACT_NOT_RENEWED = "contract_not_renewed"
    RESIGNED = "resigned"
    MUTUAL = "mutual"
    HEALTH = "health"
    OTHER = "other"


class Role(Labelled):
    """Roles of dashboard users."""

    RESEARCHER = "researcher"
    JOBCOACH = "jobcoach"
    VIEWER = "viewer"


class Respondent(Labelled):
    """Who answers a questionnaire."""

    EMPLOYEE = "employee"
    JOBCOACH = "jobcoach"
    EMPLOYER = "employer"


class InvitationStatus(Labelled):
    SCHEDULED = "scheduled"
    OPEN = "open"
    COMPLETED = "completed"
    MISSED = "missed"
    CANCELLED = "cancelled"


class OutboxStatus(Labelled):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ResponseStatus(Labelled):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class SignalAction(Labelled):
    """What a jobcoach did after seeing a signal."""

    CONVERSATION = "conversation"
    EMPLOYER_INVOLVED = "employer_involved"
    INTENSITY_UP = "intensity_up"
    CHECKLIST = "checklist"
    REFERRED = "referred"
    NONE_NEEDED = "none_needed"
    OTHER = "other"


_LABELS: dict[StrEnum, tuple[str, str]] = {
    OrganisationKind.JOBCOACH_ORGANISATION: ("Jobcoachorganisatie", "Job coaching organisation"),
    OrganisationKind.SW_COMPANY: ("SW-bedrijf", "Sheltered work company"),
    OrganisationKind.MUNICIPALITY: ("Gemeente", "Municipality"),
    OrganisationKind.UWV: ("UWV", "UWV"),
    OrganisationKind.EMPLOYER: ("Werkgever", "Employer"),
    CoachType.INTERNAL: ("Interne jobcoach", "Internal job coach"),
    CoachType.EXTERNAL: ("Externe jobcoach", "External job coach"),
    Method.SUPPORTED_EMPLOYMENT: ("Supported Employment", "Supported Employment"),
    Method.IPS: ("IPS", "IPS"),
    Method.IVB: ("IVB", "IVB"),
    Method.ITB: ("ITB", "ITB"),
    Method.EIM: ("EIM", "EIM"),
    Method.OTHER: ("Andere methode", "Other method"),
    Method.NONE: ("Geen methode", "No method"),
    Gender.FEMALE: ("Vrouw", "Female"),
    Gender.MALE: ("Man", "Male"),
    Gender.OTHER: ("Anders", "Other"),
    Gender.UNKNOWN: ("Onbekend", "Unknown"),
    Benefit.WAJONG: ("Wajong", "Wajong"),
    Benefit.WSW: ("Wsw", "Wsw"),
    Benefit.BIJSTAND: ("Bijstand / Participatiewet", "Social assistance (Participatiewet)"),
    Benefit.WIA_WGA: ("WIA/WGA", "WIA/WGA"),
    Benefit.WW: ("WW", "Unemployment benefit (WW)"),
    Benefit.NONE: ("Geen uitkering", "No benefit"),
    Funder.UWV: ("UWV", "UWV"),
    Funder.MUNICIPALITY: ("Gemeente", "Municipality"),
    Funder.EMPLOYER: ("Werkgever", "Employer"),
    EmploymentForm.SUPPORTED_WORK: ("Begeleid werken", "Supported work"),
    EmploymentForm.INDIVIDUAL_SECONDMENT: ("Individuele detachering", "Individual secondment"),
    EmploymentForm.GROUP_SECONDMENT: ("Groepsdetachering", "Group secondment"),
    EmploymentForm.INTERNAL_SW: ("Intern SW-bedrijf", "Inside a sheltered work company"),
    EmploymentForm.REGULAR: ("Regulier dienstverband", "Regular employment"),
    EmploymentForm.TRIAL_PLACEMENT: ("Proefplaatsing", "Trial placement"),
    EndReason.WORKING_INDEPENDENTLY: ("Werkt zelfstandig", "Working independently"),
    EndReason.JOB_LOSS: ("Baanverlies", "Job loss"),
    EndReason.DROPOUT: ("Uitval uit begeleiding", "Dropped out of coaching"),
    EndReason.MOVED: ("Verhuisd", "Moved"),
    EndReason.OTHER: ("Andere reden", "Other reason"),
    ContactMode.ON_SITE: ("Op de werkplek", "On site"),
    ContactMode.PHONE: ("Telefoon", "Phone"),
    ContactMode.VIDEO: ("Video", "Video"),
    ContactMode.EMAIL: ("E-mail", "E-mail"),
    ContactWith.EMPLOYEE: ("Werknemer", "Employee"),
    ContactWith.SUPERVISOR: ("Leidinggevende", "Supervisor"),
    ContactWith.COLLEAGUES: ("Collega's", "Colleagues"),
    ContactWith.SEVERAL: ("Meerdere personen", "Several people"),
    Activity.ON_THE_JOB_GUIDANCE: ("Begeleiding op de werkvloer", "On-the-job guidance"),
    Activity.SUPERVISOR_COMMUNICATION: (
        "Communicatie met de leidinggevende",
        "Communication with the supervisor",
    ),
    Activity.SELF_RELIANCE: ("Zelfredzaamheid", "Self-reliance"),
    Activity.EMPLOYER_CLIENT_PROBLEMS: (
        "Problemen tussen werkgever en werknemer oplossen",
        "Resolving problems between employer and client",
    ),
    Activity.TRAINING_NEEDS: ("Scholingsbehoefte", "Training needs"),
    Activity.PLACEMENT: ("Plaatsing", "Placement"),
    Activity.FINDING_WORKPLACE: ("Passende werkplek vinden", "Finding a suitable workplace"),
    Activity.PRIVATE_PRACTICAL: (
        "Privé- en praktische problemen",
        "Private and practical problems",
    ),
    EventKind.JOB_START: ("Start baan", "Job start"),
    EventKind.JOB_END: ("Einde baan", "Job end"),
    EventKind.HOURS_CHANGE: ("Urenwijziging", "Change of hours"),
    EventKind.DEPARTMENT_CHANGE: ("Andere afdeling", "Change of department"),
    EventKind.TASK_CHANGE: ("Andere taken", "Change of tasks"),
    EventKind.SICK_LEAVE_START: ("Begin verzuim", "Sick leave starts"),
    EventKind.SICK_LEAVE_END: ("Einde verzuim", "Sick leave ends"),
    JobEndReason.DISMISSED: ("Ontslag", "Dismissed"),
    JobEndReason.CONTRACT_NOT_RENEWED: ("Contract niet verlengd", "Contract not renewed"),
    JobEndReason.RESIGNED: ("Zelf opgezegd", "Resigned"),
    JobEndReason.MUTUAL: ("In overleg", "By mutual agreement"),
    JobEndReason.HEALTH: ("Gezondheid", "Health"),
    JobEndReason.OTHER: ("Andere reden", "Other reason"),
    Role.RESEARCHER: ("Onderzoeker", "Researcher"),
    Role.JOBCOACH: ("Jobcoach", "Job coach"),
    Role.VIEWER: ("Kijker (alleen totalen)", "Viewer (aggregates only)"),
    Respondent.EMPLOYEE: ("Werknemer", "Employee"),
    Respondent.JOBCOACH: ("Jobcoach", "Job coach"),
    Respondent.EMPLOYER: ("Werkgever", "Employer"),
    InvitationStatus.SCHEDULED: ("Gepland", "Scheduled"),
    InvitationStatus.OPEN: ("Open", "Open"),
    InvitationStatus.COMPLETED: ("Ingevuld", "Completed"),
    InvitationStatus.MISSED: ("Gemist", "Missed"),
    InvitationStatus.CANCELLED: ("Geannuleerd", "Cancelled"),
    OutboxStatus.PENDING: ("Wacht", "Pending"),
    OutboxStatus.SENT: ("Verzonden", "Sent"),
    OutboxStatus.FAILED: ("Mislukt", "Failed"),
    OutboxStatus.CANCELLED: ("Geannuleerd", "Cancelled"),
    ResponseStatus.DRAFT: ("Concept", "Draft"),
    ResponseStatus.SUBMITTED: ("Verzonden", "Submitted"),
    SignalAction.CONVERSATION: ("Gesprek gevoerd", "Talked it through"),
    SignalAction.EMPLOYER_INVOLVED: ("Werkgever betrokken", "Involved the employer"),
    SignalAction.INTENSITY_UP: ("Intensiteit verhoogd", "Raised the coaching intensity"),
    SignalAction.CHECKLIST: ("Checklist doorgenomen", "Went through the checklist"),
    SignalAction.REFERRED: ("Doorverwezen", "Referred"),
    SignalAction.NONE_NEEDED: ("Geen actie nodig", "No action needed"),
    SignalAction.OTHER: ("Iets anders", "Something else"),
}
