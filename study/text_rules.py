"""What free text (notes, reasons) may not hold: data that identifies a person.

Notes are pseudonymous study data; a citizen service number (BSN), a phone number or an e-mail
address in one would end up in every export. The checks are deliberately simple patterns: they
refuse what looks like such data and say what it looked like, so the writer can rephrase.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_EMAIL = re.compile(r"[^\s@<>()]+@[^\s@<>()]+\.[A-Za-z]{2,}")
# runs of digits with single separators between them, optionally with a +31/0031 prefix
_NUMBER_RUN = re.compile(r"(?<![\w])(?:\+|00)?\d(?:[ .()/-]{0,2}\d){7,12}(?![\w])")
_TOKEN = re.compile(r"(?:\+|00)?[\d.()-]{8,16}")
_DATE = re.compile(r"(?<!\d)\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}(?!\d)")


@dataclass(frozen=True)
class Finding:
    """One kind of personal data found in a text: ``kind`` is ``bsn``, ``phone`` or ``email``."""

    kind: str
    text: str


def is_bsn(digits: str) -> bool:
    """Whether nine digits pass the eleven test (elfproef) of a Dutch citizen service number."""
    if len(digits) != 9 or not digits.isdigit() or digits == "0" * 9:
        return False
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 == 0


def is_phone(candidate: str) -> bool:
    """Whether a run of digits is a Dutch phone number (10 digits from 0, or +31/0031 and 9)."""
    if _DATE.search(candidate):
        return False
    digits = re.sub(r"\D", "", candidate)
    if digits.startswith("0031"):
        digits = "0" + digits[4:]
    elif candidate.lstrip().startswith("+") and digits.startswith("31"):
        digits = "0" + digits[2:]
    return len(digits) == 10 and digits[0] == "0" and digits[1] != "0"


def _candidates(text: str) -> list[str]:
    found = [m.group(0) for m in _NUMBER_RUN.finditer(text)]
    found += [m.group(0) for m in _TOKEN.finditer(text)]
    return found


def personal_data(text: str) -> list[Finding]:
    """The BSNs, phone numbers and e-mail addresses that ``text`` seems to contain, in that order."""
    findings: list[Finding] = []
    seen: set[tuple[str, str]] = set()

    def add(kind: str, value: str) -> None:
        if (kind, value) not in seen:
            seen.add((kind, value))
            findings.append(Finding(kind, value.strip()))

    for candidate in _candidates(text):
        digits = re.sub(r"\D", "", candidate)
        if is_bsn(digits) and not _DATE.search(candidate):
            add("bsn", candidate)
    for candidate in _candidates(text):
        if is_phone(candidate):
            add("phone", candidate)
    for m in _EMAIL.finditer(text):
        add("email", m.group(0))
    return findings


KIND_NAMES = {
    "bsn": ("een burgerservicenummer (BSN)", "a citizen service number (BSN)"),
    "phone": ("een telefoonnummer", "a phone number"),
    "email": ("een e-mailadres", "an e-mail address"),
}
