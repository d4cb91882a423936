"""Form rendering: accessible, escaped, re-filled, phone-friendly HTML."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from questionnaires.render import render_section
from questionnaires.schema import parse_instrument

from .conftest import minimal_instrument


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    c = _Collector()
    c.feed(html)
    return c.tags


def _section_index(inst, section_id):
    return [s.id for s in inst.sections].index(section_id)


def test_every_input_has_a_label_in_every_section(instruments):
    for inst in instruments.values():
        for i in range(len(inst.sections)):
            html = render_section(inst, i, {}, {}, "nl")
            tags = _tags(html)
            label_for = {a["for"] for t, a in tags if t == "label"}
            for t, a in tags:
                if t in ("input", "select", "textarea"):
                    assert a["id"] in label_for, (inst.id, a)
            assert "<table" not in html


def test_radio_groups_are_fieldsets_with_legends(instruments):
    inst = instruments["employee_followup"]
    html = render_section(inst, _section_index(inst, "alliance"), {}, {}, "en")
    assert html.count("<legend>") == 1 + 13  # section + 13 items
    assert "My jobcoach and I really click." in html
    assert html.count('type="radio"') == 13 * 5
    assert 'class="klik-matrix"' in html


def test_values_refilled_and_errors_linked(instruments):
    inst = instruments["employee_followup"]
    html = render_section(
        inst,
        _section_index(inst, "work"),
        {"ws_hours": "70", "ws_employed": 1, "ws_changed": "2"},
        {"ws_hours": "Vul een getal in van 0 tot en met 60."},
        "nl",
    )
    tags = _tags(html)
    hours = next(a for t, a in tags if t == "input" and a.get("name") == "ws_hours")
    assert hours["value"] == "70"
    assert "q-ws_hours-error" in hours["aria-describedby"]
    assert hours["aria-invalid"] == "true"
    assert 'id="q-ws_hours-error"' in html and "tot en met 60" in html
    checked = [(a["name"], a["value"]) for t, a in tags if t == "input" and "checked" in a]
    assert ("ws_employed", "1") in checked and ("ws_changed", "2") in checked
    assert "(verplicht)" in html


def test_checkboxes_share_the_item_name(instruments):
    inst = instruments["jobcoach_followup"]
    html = render_section(
        inst, _section_index(inst, "activities"), {"activities": ["placement"]}, {}, "en"
    )
    boxes = [a for t, a in _tags(html) if t == "input" and a.get("type") == "checkbox"]
    assert len(boxes) == 8 and {b["name"] for b in boxes} == {"activities"}
    assert [b["value"] for b in boxes if "checked" in b] == ["placement"]


def test_text_is_escaped():
    data = minimal_instrument()
    data["sections"][0]["items"][3]["text"] = {"nl": "<script>x</script>", "en": "a & b"}
    inst = parse_instrument(data, "mini")
    html = render_section(inst, 0, {"note": '"><img src=x>'}, {"note": "<b>fout</b>"}, "nl")
    assert "<script" not in html  # a label with markup is sanitised, a script dropped
    assert "<img" not in html and "<b>" not in html
    assert re.search(r'value="&#34;&gt;&lt;img src=x&gt;"', html)
