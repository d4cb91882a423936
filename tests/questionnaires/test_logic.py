"""REDCap's logic language: a table of expressions and the values REDCap documents for them.

Sources of the expected semantics: REDCap's branching-logic and calculated-field help
(quotes around values, ``[field] = ""`` for blank, ``[cb(code)] = "1"`` for a ticked box,
``[event][field]`` in longitudinal projects; sum/mean/min/max ignore blanks; round, roundup,
rounddown with decimal places; datediff with units y, M, d, h, m, s, signed or absolute).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from questionnaires.logic import Context, LogicError, parse, to_json

NOW = dt.datetime(2024, 6, 15, 12, 30)
ANSWERS: dict[str, Any] = {
    "age": 34,
    "zero": 0,
    "blank": None,
    "empty": "",
    "name": "Ada",
    "code": "05",
    "word": "abc",
    "sex": 0,
    "hours": 24.5,
    "gym": [1, 3],
    "nogym": [],
    "dob": dt.date(1990, 3, 4),
    "visit": dt.date(2024, 6, 1),
    "when": dt.datetime(2024, 6, 1, 8, 0),
    "q1": 2,
    "q2": None,
    "q3": 4,
}
EARLIER = {"t0": {"hours": 16, "age": 33}, "t1": {"hours": None}}

# (expression, expected value); None is blank.
TABLE: list[tuple[str, Any]] = [
    # blanks: equal to "" only, never ordered
    ('[blank] = ""', True),
    ('[empty] = ""', True),
    ('[blank] <> ""', False),
    ('[age] = ""', False),
    ('[age] <> ""', True),
    ("[blank] = 0", False),
    ("[zero] = 0", True),
    ('[zero] = ""', False),
    ("[blank] < 5", False),
    ("[blank] > 5", False),
    ("[blank] <= 5", False),
    ("[blank] >= 5", False),
    ("[unknown_field_value] = ''", True),
    # numbers and text
    ('[age] = "34"', True),
    ("[age] = 34.0", True),
    ('[code] = "5"', True),
    ("[code] = 5", True),
    ('[sex] = "0"', True),
    ('[sex] = "1"', False),
    ("[age] > 18", True),
    ('[age] > "18"', True),
    ("[age] >= 34", True),
    ("[age] < 34", False),
    ('[age] != "34"', False),
    ('[name] = "Ada"', True),
    ('[name] = "ada"', False),
    ('[word] < "abd"', True),
    ("[word] > 5", True),  # text against a number compares as text: "abc" > "5"
    ("[hours] > 24", True),
    # checkboxes
    ('[gym(1)] = "1"', True),
    ('[gym(2)] = "1"', False),
    ('[gym(2)] = "0"', True),
    ("[gym(3)] = 1", True),
    ('[nogym(1)] = "0"', True),
    # boolean logic and precedence
    ('[age] > 18 and [sex] = "0"', True),
    ('[age] > 40 or [sex] = "0"', True),
    ('[age] > 40 or [sex] = "1" and [age] > 0', False),
    ('([age] > 40 or [sex] = "0") and [age] > 0', True),
    ("not [age] > 40", True),
    ('not ([age] > 18 and [sex] = "0")', False),
    ('[age] > 18 AND [sex] = "0"', True),
    # arithmetic: blank or text operands make the result blank
    ("[age] + 1", 35.0),
    ("1 + 2 * 3", 7.0),
    ("(1 + 2) * 3", 9.0),
    ("2 ^ 3", 8.0),
    ("-2 ^ 2", -4.0),
    ("10 / 4", 2.5),
    ("10 / 0", None),
    ("[age] + [blank]", None),
    ("[name] + 1", None),
    ("[hours] * 2", 49.0),
    # aggregates ignore blanks
    ("sum([q1], [q2], [q3])", 6.0),
    ("mean([q1], [q2], [q3])", 3.0),
    ("min([q1], [q2], [q3])", 2.0),
    ("max([q1], [q2], [q3])", 4.0),
    ("median([q1], [q3], 9)", 4.0),
    ("sum([blank], [q2])", None),
    ("mean([blank])", None),
    ("stdev(2, 4, 4, 4, 5, 5, 7, 9)", pytest.approx(2.138, abs=1e-3)),
    # rounding
    ("round(14.384, 1)", 14.4),
    ("round(14.35, 1)", 14.4),
    ("round(2.5)", 3.0),
    ("round(-2.5)", -3.0),
    ("roundup(14.384, 1)", 14.4),
    ("rounddown(14.384, 1)", 14.3),
    ("roundup(14.301, 2)", 14.31),
    ("rounddown(14.389)", 14.0),
    ("round([blank], 1)", None),
    ("abs(-7.1)", 7.1),
    ("abs(45)", 45.0),
    ("sqrt(16)", 4.0),
    ("sqrt(-1)", None),
    # if
    ('if([age] >= 18, "adult", "minor")', "adult"),
    ("if([blank] = '', 0, [blank] + 1)", 0.0),
    ("if([age] > 100, 1, 0)", 0.0),
    # dates: stored as Y-M-D; datediff is d2 - d1, absolute unless signed
    ('datediff([dob], [visit], "y")', pytest.approx(34.24, abs=0.01)),
    ('rounddown(datediff([dob], [visit], "y"))', 34.0),
    ('datediff([visit], "2024-06-11", "d")', 10.0),
    ('datediff("2024-06-11", [visit], "d")', 10.0),
    ('datediff("2024-06-11", [visit], "d", true)', -10.0),
    ('datediff("2024-06-11", [visit], "d", "ymd", true)', -10.0),
    ('datediff("06-11-2024", [visit], "d", "mdy", true)', -10.0),
    ('datediff("11-06-2024", [visit], "d", "dmy", true)', -10.0),
    ('datediff([visit], "today", "d")', 14.0),
    ('datediff([when], "now", "h")', pytest.approx(14 * 24 + 4.5)),
    ('datediff([when], "2024-06-01 09:30", "m")', 90.0),
    ('datediff([visit], "2024-07-01", "M")', pytest.approx(30 / 30.44)),
    ('datediff([blank], [visit], "d")', None),
    ('[visit] > "2024-05-31"', True),
    ('[visit] = "2024-06-01"', True),
    ("year([dob])", 1990.0),
    ("month([dob])", 3.0),
    ("day([dob])", 4.0),
    # text functions, case-insensitive search
    ('contains([name], "DA")', True),
    ('not_contain([name], "x")', True),
    ('starts_with([name], "a")', True),
    ('ends_with([name], "A")', True),
    ('contains([blank], "a")', False),
    ('concat([name], " ", [age])', "Ada 34"),
    ("length([name])", 3.0),
    ("upper([name])", "ADA"),
    ("left([name], 2)", "Ad"),
    ("right([name], 2)", "da"),
    ("mid([name], 2, 1)", "d"),
    ("isblankormissingcode([blank])", True),
    ("isblankormissingcode([empty])", True),
    ("isblankormissingcode([age])", False),
    ("isblankormissingcode([name])", True),  # "Ada" is a missing code in this context
    ("isnumber([code])", True),
    ("isnumber([name])", False),
    ("isinteger([hours])", False),
    # earlier events (waves)
    ("[t0][hours]", 16.0),
    ("[hours] - [t0][hours]", 8.5),
    ("[t0][hours] < [hours]", True),
    ('[t1][hours] = ""', True),
    ('[t9][hours] = ""', True),
]


@pytest.mark.parametrize(("text", "expected"), TABLE, ids=[t for t, _ in TABLE])
def test_semantics(text: str, expected: Any):
    context = Context.of(ANSWERS, NOW, EARLIER, missing_codes={"Ada"})
    assert parse(text).evaluate(context) == expected


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("", 1, "empty"),
        ("[age] >", 8, "expected a value"),
        ("[age] = 'x", 9, "quotes"),
        ("[age] = 1 2", 11, "after a complete expression"),
        ("age = 1", 1, "square brackets"),
        ("sum([a]", 8, "')' to close sum("),
        ("foo([a])", 1, "unknown function 'foo'"),
        ("if([a], 1)", 1, "if() takes 3 arguments, found 2"),
        ("[a b] = 1", 1, "is not a field"),
        ("[a()] = 1", 1, "code in () is empty"),
        ("[a] = 1 = 2", 9, "two comparisons"),
        ("[a] ; 1", 5, "unexpected ';'"),
        ("(([a] = 1)", 11, "expected ')'"),
    ],
)
def test_parse_errors_name_the_position(text: str, position: int, fragment: str):
    with pytest.raises(LogicError) as caught:
        parse(text)
    assert caught.value.position == position
    assert fragment in str(caught.value)
    assert f"at character {position}" in str(caught.value)


def test_check_names_the_unknown_field_and_its_position():
    expr = parse('[age] > 3 and [agee] = "1"')
    with pytest.raises(LogicError) as caught:
        expr.check({"age": "integer"})
    assert caught.value.field == "agee"
    assert caught.value.position == 15
    assert "unknown field [agee]" in str(caught.value)


def test_check_events_and_checkbox_codes():
    fields = {"hours": "number", "gym": "checkbox"}
    parse("[t0][hours] > 1").check(fields, events={"t0", "t1"})
    with pytest.raises(LogicError, match=r"unknown event \[t7\]"):
        parse("[t7][hours] > 1").check(fields, events={"t0"})
    with pytest.raises(LogicError, match="is a checkbox"):
        parse("[gym] = '1'").check(fields)
    with pytest.raises(LogicError, match="only a checkbox"):
        parse("[hours(1)] = '1'").check(fields)


def test_no_python_is_reachable():
    # Names that would mean something to Python are not part of the language.
    for text in ("__import__('os')", "[a].__class__", "open('x')", "eval('1')", "lambda: 1"):
        with pytest.raises(LogicError):
            parse(text)


def test_fields_read_and_json_tree():
    expr = parse("[t0][hours] + [gym(2)] + sum([a], 1)")
    assert expr.fields == {("t0", "hours"), (None, "gym"), (None, "a")}
    assert to_json(parse("[a] = '1'").tree) == [
        "bin",
        "=",
        ["field", None, "a", None],
        ["lit", "1"],
    ]


def test_deep_nesting_is_an_error_not_a_crash():
    assert parse("(" * 40 + "1" + ")" * 40).evaluate(Context.of({}, NOW)) == 1.0
    with pytest.raises(LogicError, match="nested"):
        parse("(" * 400 + "1" + ")" * 400)
    with pytest.raises(LogicError, match="nested"):
        parse("abs(" * 400 + "1" + ")" * 400)
