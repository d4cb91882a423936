"""REDCap's text validation types: how a typed answer is read, checked and stored.

Dates are read in the field's own order (``date_mdy`` reads 03/04/2024 as 4 March) and stored
as ``Y-M-D`` like REDCap does; date-times as ``Y-M-D H:M`` (``:S`` for the seconds variants);
times as ``H:M``, ``H:M:S`` or ``M:S``. Other types are patterns (e-mail, phone numbers,
postcodes, letters only, record numbers). Bounds may be dates, date-times, ``today`` or
``now``. Every check returns a message key of :data:`MESSAGES` with its arguments.
"""

from __future__ import annotations

import datetime as dt
import re

DATE_ORDERS: dict[str, str] = {"ymd": "jjjj-mm-dd", "mdy": "mm-dd-jjjj", "dmy": "dd-mm-jjjj"}
DATE_ORDERS_EN: dict[str, str] = {"ymd": "yyyy-mm-dd", "mdy": "mm-dd-yyyy", "dmy": "dd-mm-yyyy"}

_DATE_TYPE = re.compile(r"^date_(ymd|mdy|dmy)$")
_DATETIME_TYPE = re.compile(r"^datetime_(seconds_)?(ymd|mdy|dmy)$")

PATTERNS: dict[str, re.Pattern[str]] = {
    "email": re.compile(
        r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}"
        r"[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
    ),
    "phone": re.compile(r"^\(?([2-9][0-8][0-9])\)?[-. ]?([2-9][0-9]{2})[-. ]?([0-9]{4})$"),
    "phone_australia": re.compile(r"^(\(0[2-8]\)|0[2-8])?[ -]?[0-9]{4}[ -]?[0-9]{4}$"),
    "zipcode": re.compile(r"^\d{5}(-\d{4})?$"),
    "postalcode_australia": re.compile(r"^\d{4}$"),
    "postalcode_canada": re.compile(
        r"^[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d$", re.I
    ),
    "postalcode_french": re.compile(r"^\d{5}$"),
    "postalcode_germany": re.compile(r"^\d{5}$"),
    "postalcode_nl": re.compile(r"^[1-9]\d{3} ?(?!SA|SD|SS)[A-Z]{2}$", re.I),
    "alpha_only": re.compile(r"^[A-Za-z]+$"),
    "mrn_10d": re.compile(r"^\d{10}$"),
    "mrn_generic": re.compile(r"^[A-Za-z0-9-_.]+$"),
    "vmrn": re.compile(r"^[0-9]{4,9}$"),
    "ssn": re.compile(r"^\d{3}-\d\d-\d{4}$"),
}
"""Pattern types, as REDCap defines them (``postalcode_nl``: Dutch postcodes, 1234 AB)."""

TIME_TYPES: dict[str, tuple[str, str]] = {
    "time": (r"^([01]?\d|2[0-3]):([0-5]\d)$", "uu:mm"),
    "time_hh_mm_ss": (r"^([01]?\d|2[0-3]):([0-5]\d):([0-5]\d)$", "uu:mm:ss"),
    "time_mm_ss": (r"^([0-5]?\d):([0-5]\d)$", "mm:ss"),
}

NUMBER_TYPE = re.compile(r"^number(?:_(\d)dp)?(_comma_decimal)?$")


class Problem(Exception):
    """An answer that does not fit: a message key and its arguments."""

    def __init__(self, key: str, args: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(key)
        self.key = key
        self.arguments = dict(args)


def is_text_type(validation: str | None) -> bool:
    """Whether a text item's validation is one Klik checks."""
    if not validation:
        return False
    return (
        validation in PATTERNS
        or validation in TIME_TYPES
        or _DATETIME_TYPE.match(validation) is not None
    )


def date_order(validation: str | None) -> str | None:
    """``ymd``, ``mdy`` or ``dmy`` for a date or date-time validation, else None."""
    if not validation:
        return None
    m = _DATE_TYPE.match(validation) or _DATETIME_TYPE.match(validation)
    return m.groups()[-1] if m else None


def has_seconds(validation: str | None) -> bool:
    """Whether a date-time validation has seconds."""
    return bool(validation and validation.startswith("datetime_seconds_"))


def hint(validation: str | None, lang: str) -> str | None:
    """How an answer of this type is written (the input's placeholder), or None."""
    order = date_order(validation)
    orders = DATE_ORDERS if lang == "nl" else DATE_ORDERS_EN
    if order is not None:
        text = orders[order]
        if validation and validation.startswith("datetime"):
            text += " uu:mm" if lang == "nl" else " hh:mm"
            if has_seconds(validation):
                text += ":ss"
        return text
    if validation in TIME_TYPES:
        text = TIME_TYPES[validation][1]
        return text if lang == "nl" else text.replace("uu", "hh")
    return None


def _split_date(text: str) -> list[str] | None:
    parts = re.split(r"[-/.]", text)
    return parts if len(parts) == 3 and all(p.isdigit() for p in parts) else None


def read_date(text: str, order: str) -> dt.date:
    """A date typed in ``order`` (or as Y-M-D, which cannot be mistaken for the others).

    Raises
    ------
    Problem
        ``date_order`` with the expected pattern.
    """
    parts = _split_date(text.strip())
    if parts is None:
        raise Problem("date_order", (("pattern", order),))
    if len(parts[0]) == 4:
        y, m, d = parts
    elif order == "mdy":
        m, d, y = parts
    elif order == "dmy":
        d, m, y = parts
    else:
        raise Problem("date_order", (("pattern", order),))
    if len(y) != 4:
        raise Problem("date_order", (("pattern", order),))
    try:
        return dt.date(int(y), int(m), int(d))
    except ValueError:
        raise Problem("date_order", (("pattern", order),)) from None


def read_datetime(text: str, validation: str) -> str:
    """A date-time typed in the field's order, as stored text ``Y-M-D H:M[:S]``."""
    order = date_order(validation) or "ymd"
    seconds = has_seconds(validation)
    date_part, _, time_part = text.strip().replace("T", " ").partition(" ")
    pattern = TIME_TYPES["time_hh_mm_ss" if seconds else "time"][0]
    m = re.match(pattern, time_part.strip())
    if m is None:
        raise Problem("datetime_order", (("pattern", validation),))
    try:
        day = read_date(date_part, order)
    except Problem:
        raise Problem("datetime_order", (("pattern", validation),)) from None
    hh, mm = int(m.group(1)), int(m.group(2))
    stamp = f"{day.isoformat()} {hh:02d}:{mm:02d}"
    return stamp + (f":{int(m.group(3)):02d}" if seconds else "")


def read_time(text: str, validation: str) -> str:
    """A time as stored text (two digits per part)."""
    m = re.match(TIME_TYPES[validation][0], text.strip())
    if m is None:
        raise Problem("time_format", (("pattern", validation),))
    return ":".join(f"{int(g):02d}" for g in m.groups())


def read_text(text: str, validation: str) -> str:
    """A checked, normalised answer of a text validation type."""
    if _DATETIME_TYPE.match(validation):
        return read_datetime(text, validation)
    if validation in TIME_TYPES:
        return read_time(text, validation)
    value = text.strip()
    if not PATTERNS[validation].match(value):
        raise Problem(f"pattern_{validation}" if validation in _OWN_MESSAGES else "pattern")
    if validation == "postalcode_nl":
        compact = value.replace(" ", "").upper()
        return f"{compact[:4]} {compact[4:]}"
    if validation == "postalcode_canada":
        compact = value.replace(" ", "").upper()
        return f"{compact[:3]} {compact[3:]}"
    return value


_OWN_MESSAGES = frozenset({"email", "phone", "zipcode", "postalcode_nl", "alpha_only"})


def bound(text: str | None, now: dt.datetime | None, kind: str) -> str | dt.date | None:
    """A min/max bound: ``today``, ``now`` or a Y-M-D date (date-time) as a comparable value.

    ``kind`` is ``date`` (a :class:`datetime.date`) or ``datetime`` (stored text).
    """
    if text is None:
        return None
    low = text.strip().lower()
    if low in ("today", "now"):
        if now is None:
            return None
        naive = now.replace(tzinfo=None)
        if kind == "date":
            return naive.date()
        return naive.strftime("%Y-%m-%d 00:00" if low == "today" else "%Y-%m-%d %H:%M")
    if kind == "date":
        return read_date(text[:10], "ymd")
    return text.strip()


def decimals(validation: str | None) -> int | None:
    """The number of decimals a ``number_Ndp`` validation asks for, else None."""
    m = NUMBER_TYPE.match(validation or "")
    return int(m.group(1)) if m and m.group(1) else None
