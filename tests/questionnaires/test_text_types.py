"""REDCap's validation types, read from the shared validation-types dictionary and tried."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from questionnaires.redcap import REDCAP_HEADER_LINE, import_redcap, parse_redcap
from questionnaires.render import render_section
from questionnaires.validation import validate_answers

from .conftest import REDCAP_DIR

NOW = dt.datetime(2026, 1, 10, 9, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def form():
    return import_redcap(REDCAP_DIR / "redcapr_validation-types-1.csv").instruments[0]


CASES = [
    # field, typed, stored (None: refused)
    ("v_date_mdy", "03/04/2024", dt.date(2024, 3, 4)),
    ("v_date_mdy", "12/31/2024", dt.date(2024, 12, 31)),
    ("v_date_mdy", "31/12/2024", None),
    ("v_date_mdy", "2024-12-31", dt.date(2024, 12, 31)),
    ("v_date_dmy", "03-04-2024", dt.date(2024, 4, 3)),
    ("v_date_dmy", "31-12-2024", dt.date(2024, 12, 31)),
    ("v_date_dmy", "12/31/2024", None),
    ("v_date_ymd", "2024-02-29", dt.date(2024, 2, 29)),
    ("v_date_ymd", "2023-02-29", None),
    ("v_date_ymd", "03-04-2024", None),
    ("v_datetime_mdy", "03/04/2024 14:05", "2024-03-04 14:05"),
    ("v_datetime_dmy", "03-04-2024 9:05", "2024-04-03 09:05"),
    ("v_datetime_ymd", "2024-03-04 24:00", None),
    ("v_datetime_ymd", "2024-03-04", None),
    ("v_datetime_seconds_ymd", "2024-03-04 14:05:09", "2024-03-04 14:05:09"),
    ("v_datetime_seconds_dmy", "04-03-2024 14:05", None),
    ("v_time_hh_mm", "9:30", "09:30"),
    ("v_time_hh_mm", "25:00", None),
    ("v_time_hh_mm_ss", "23:59:59", "23:59:59"),
    ("v_time_mm_ss", "4:30", "04:30"),
    ("v_time_mm_ss", "61:00", None),
    ("v_number", "12,5", 12.5),
    ("v_number_1dp", "12.5", 12.5),
    ("v_number_1dp", "12.55", None),
    ("v_number_2dp", "12,50", 12.5),
    ("v_number_2dp", "12", None),
    ("v_number_2dp_comma_decimal", "3,14", 3.14),
    ("v_number_3dp_comma_decimal", "3,141", 3.141),
    ("v_number_4dp", "1.0000", 1.0),
    ("v_integer", "12", 12),
    ("v_integer", "12.5", None),
    ("v_email", "a.b@example.org", "a.b@example.org"),
    ("v_email", "a.b@", None),
    ("v_email", "a b@example.org", None),
    ("v_phone", "(415) 555-1212", "(415) 555-1212"),
    ("v_phone", "555-1212", None),
    ("v_zipcode", "90210", "90210"),
    ("v_zipcode", "9021", None),
    ("v_postalcode_canada", "k1a 0b1", "K1A 0B1"),
    ("v_postalcode_canada", "D1A 0B1", None),
    ("v_postalcode_germany", "10115", "10115"),
    ("v_postalcode_french", "7500", None),
    ("v_postalcode_australia", "2000", "2000"),
    ("v_alpha_only", "abc", "abc"),
    ("v_alpha_only", "abc1", None),
    ("v_ssn", "123-45-6789", "123-45-6789"),
    ("v_mrn_10d", "123456789", None),
]


@pytest.mark.parametrize(("field", "typed", "stored"), CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_types_read_and_refuse(form, field: str, typed: str, stored):
    result = validate_answers(form, {field: typed}, partial=True, now=NOW)
    if stored is None:
        assert field in result.errors
        assert result.errors[field].startswith(("Vul", "Dit antwoord"))  # Dutch, says what to do
    else:
        assert field not in result.errors, result.errors.get(field)
        assert result.values[field] == stored


def test_messages_give_the_fields_own_order(form):
    nl = validate_answers(form, {"v_date_mdy": "31/12/2024"}, partial=True)
    assert nl.errors["v_date_mdy"] == "Vul een datum in als mm-dd-jjjj, bijvoorbeeld 01-31-2025."
    en = validate_answers(form, {"v_date_dmy": "12/31/2024"}, "en", partial=True)
    assert en.errors["v_date_dmy"] == "Please enter a date as dd-mm-yyyy, for example 31-01-2025."
    dp = validate_answers(form, {"v_number_2dp": "12"}, partial=True)
    assert dp.errors["v_number_2dp"] == (
        "Vul een getal in met 2 cijfer(s) achter de komma, bijvoorbeeld 12,50."
    )


BOUND_ROWS = [
    "record_id,f,,text,ID,,,,,,,,,,,,,",
    "visit,f,,text,Bezoek,,,date_dmy,01-01-2025,today,,,,,,,,",
    "born,f,,text,Geboren,,,date_mdy,,12-31-2010,,,,,,,,",
    "seen,f,,text,Gezien,,,datetime_ymd,2025-01-01 08:00,now,,,,,,,,",
    "start,f,,text,Begintijd,,,time,08:00,18:00,,,,,,,,",
    "hours,f,,text,Uren,,,number_1dp,0,60,,,,,,,,",
]


def test_bounds_with_today_and_now():
    inst = parse_redcap(REDCAP_HEADER_LINE + "\n" + "\n".join(BOUND_ROWS), "b.csv").instruments[0]
    assert (inst.item("visit").earliest, inst.item("visit").latest) == ("2025-01-01", "today")
    assert inst.item("born").latest == "2010-12-31"

    def errors(**answers: str) -> dict[str, str]:
        return validate_answers(inst, answers, partial=True, now=NOW).errors

    assert errors(visit="10-01-2026") == {}
    assert errors(visit="11-01-2026") == {"visit": "Vul een moment in tot en met 10-01-2026."}
    assert errors(visit="31-12-2024") == {"visit": "Vul een moment in vanaf 01-01-2025."}
    assert errors(born="12-31-2010") == {} and "born" in errors(born="01-01-2011")
    assert errors(seen="2026-01-10 09:30") == {} and "seen" in errors(seen="2026-01-10 09:31")
    assert "seen" in errors(seen="2024-12-31 23:59")
    assert errors(start="08:00") == {} and "start" in errors(start="18:01")
    assert errors(hours="60.0") == {} and "hours" in errors(hours="60.5")


def test_date_inputs_show_and_read_the_fields_order(form):
    stored = {"v_date_mdy": dt.date(2024, 12, 31), "v_date_dmy": dt.date(2024, 12, 31)}
    html = render_section(form, 0, {**stored, "v_datetime_dmy": "2024-12-31 14:05"}, {}, "nl")
    mdy = re.search(r'<input[^>]*name="v_date_mdy"[^>]*>', html)
    dmy = re.search(r'<input[^>]*name="v_date_dmy"[^>]*>', html)
    assert mdy and 'value="12-31-2024"' in mdy.group() and 'placeholder="mm-dd-jjjj"' in mdy.group()
    assert 'type="text"' in mdy.group() and 'inputmode="numeric"' in mdy.group()
    assert dmy and 'value="31-12-2024"' in dmy.group()
    dt_input = re.search(r'<input[^>]*name="v_datetime_dmy"[^>]*>', html)
    assert dt_input and 'value="31-12-2024 14:05"' in dt_input.group()
    assert 'placeholder="dd-mm-jjjj uu:mm"' in dt_input.group()
    # what is shown reads back as the same date
    back = validate_answers(
        form, {"v_date_mdy": "12-31-2024", "v_date_dmy": "31-12-2024"}, partial=True
    )
    assert back.values["v_date_mdy"] == back.values["v_date_dmy"] == dt.date(2024, 12, 31)
    email = re.search(r'<input[^>]*name="v_email"[^>]*>', html)
    assert email and 'type="email"' in email.group()
