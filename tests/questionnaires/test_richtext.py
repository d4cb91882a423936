"""Rich-text labels: REDCap's subset survives, hostile markup never reaches the page."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from questionnaires.redcap import REDCAP_HEADER_LINE, parse_redcap
from questionnaires.render import render_section
from questionnaires.richtext import plain_text, rich_html

HOSTILE = [
    "<script>alert(1)</script>Vraag",
    "<img src=x onerror=alert(1)>Vraag",
    '<a href="javascript:alert(1)">Vraag</a>',
    '<a href="JaVaScRiPt:alert(1)">Vraag</a>',
    '<a href="data:text/html,<script>alert(1)</script>">Vraag</a>',
    '<span onclick="alert(1)" style="color:red">Vraag</span>',
    '<span style="background-image:url(http://evil/x)">Vraag</span>',
    '<span style="color: red; position: fixed; top: 0">Vraag</span>',
    "<iframe src=//evil></iframe>Vraag",
    '<svg onload="alert(1)"><circle/></svg>Vraag',
    "<style>body{display:none}</style>Vraag",
    '<form action="//evil"><input name=x></form>Vraag',
    "<b>Vraag</b><!-- <script>alert(1)</script> -->",
    '<div><p style="x:expression(alert(1))">Vraag</p></div>',
    "<<script>script>alert(1)<</script>/script>Vraag",
    '<meta http-equiv="refresh" content="0;url=//evil">Vraag',
    '<object data="//evil"></object><embed src="//evil">Vraag',
    '<base href="//evil/">Vraag',
    '<a href="https://example.org" target="_blank" onmouseover="x()">Vraag</a>',
]


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _elements(html_text: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(html_text)
    return parser.tags


FORBIDDEN_TAGS = {"script", "img", "iframe", "svg", "style", "form", "input", "meta", "object"}
FORBIDDEN_TAGS |= {"embed", "base", "link"}


@pytest.mark.parametrize("label", HOSTILE)
@pytest.mark.parametrize("context", ["inline", "block"])
def test_hostile_labels_are_defused(label: str, context: str):
    out = str(rich_html(label, context))  # type: ignore[arg-type]
    for tag, attrs in _elements(out):
        assert tag not in FORBIDDEN_TAGS
        for name, value in attrs.items():
            assert not name.startswith("on")
            assert name not in ("src", "action", "target", "http-equiv")
            if name == "href":
                assert value is not None and re.match(r"^(https?:|mailto:)", value)
            if name == "style":
                assert value is not None
                assert "url(" not in value and "expression" not in value
                assert "position" not in value
    assert "Vraag" in plain_text(out) or "Vraag" in out


def test_redcap_subset_is_kept():
    label = (
        '<b>Vet</b> <i>schuin</i> <u>onder</u> <sup>2</sup> <span style="color:#e03e2d">rood'
        '</span><br><a href="https://example.org/x">link</a>'
    )
    out = str(rich_html(label))
    assert "<b>Vet</b>" in out and "<i>schuin</i>" in out and "<u>onder</u>" in out
    assert "<sup>2</sup>" in out and 'style="color:#e03e2d"' in out and "<br>" in out
    assert 'href="https://example.org/x"' in out and 'rel="noopener noreferrer nofollow"' in out


def test_block_markup_only_where_blocks_may_go():
    label = "<p>Alinea</p><ul><li>een</li></ul>"
    assert "<ul>" in str(rich_html(label, "block"))
    inline = str(rich_html(label, "inline"))
    assert "<ul>" not in inline and "<p>" not in inline and "een" in inline


def test_plain_text_is_escaped_with_line_breaks():
    assert str(rich_html("a < b & c\nd")) == "a &lt; b &amp; c<br>d"
    assert plain_text("<b>Vet</b> &amp; <script>x()</script>klaar") == "Vet & klaar"
    assert plain_text("5 < 6") == "5 < 6"


def test_rendered_redcap_form_has_no_raw_markup_and_no_script():
    rows = [
        "record_id,f,,text,ID,,,,,,,,,,,,,",
        'intro,f,"<h4 onclick=x()>Over <b>werk</b></h4>",descriptive,'
        '"<script>alert(1)</script><p>Lees <a href=""javascript:alert(2)"">dit</a></p>",,,,,,,,,,,,,',
        'mood,f,,radio,"Hoe <b>voel</b> je je?<img src=x onerror=alert(3)>",'
        '"1, <i>goed</i> | 2, <script>alert(4)</script>slecht",'
        '"<u>let op</u><iframe src=//evil></iframe>",,,,,,,,,,,',
        'pick,f,,dropdown,Kies,"1, <b>een</b> | 2, twee",,,,,,,,,,,,',
    ]
    inst = parse_redcap(REDCAP_HEADER_LINE + "\n" + "\n".join(rows), "hostile").instruments[0]
    html_text = render_section(inst, 0, {}, {}, "nl")
    tags = _elements(html_text)
    assert not {t for t, _ in tags} & (FORBIDDEN_TAGS - {"input"})
    assert {a.get("name") for t, a in tags if t in ("input", "select")} == {
        "record_id",
        "mood",
        "pick",
    }
    assert all(not n.startswith("on") for _, a in tags for n in a)
    assert "javascript:" not in html_text and "alert(" not in html_text
    assert "&lt;b&gt;" not in html_text  # rich text is rendered, not shown as markup
    assert (
        "<b>voel</b>" in html_text and "<i>goed</i>" in html_text and "<u>let op</u>" in html_text
    )
    assert "<b>werk</b>" in html_text
    # a <select> option cannot hold markup: the words alone
    assert '<option value="1">een</option>' in html_text
