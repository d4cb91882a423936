"""Labels with REDCap's rich text: sanitised to an allow-list, never raw markup, never script.

REDCap's editor writes a small HTML subset into labels, section headers, notes and choices
(bold, italics, underline, lists, line breaks, links, coloured spans). :func:`rich_html` keeps
that subset and drops everything else with ``nh3`` (the Rust ``ammonia`` sanitiser): scripts,
event handlers, ``javascript:`` links, styles other than colour and alignment, images and
frames. Plain text is escaped, with its line breaks kept as REDCap shows them.
:func:`plain_text` gives the words alone, for places where markup cannot go (a ``<select>``
option, a page title, a CSV cell).
"""

from __future__ import annotations

import html
import re
from typing import Literal

import nh3
from markupsafe import Markup, escape

Context = Literal["inline", "block"]
"""``inline``: inside a label or legend (phrasing markup only); ``block``: descriptive text,
section headers and introductions (paragraphs and lists too)."""

INLINE_TAGS: frozenset[str] = frozenset(
    {"b", "strong", "i", "em", "u", "s", "strike", "sub", "sup", "br", "span", "a", "small", "mark"}
)
BLOCK_TAGS: frozenset[str] = INLINE_TAGS | frozenset(
    {"p", "div", "ul", "ol", "li", "blockquote", "h4", "h5", "h6", "hr", "center"}
)
ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "span": {"style"},
    "p": {"style"},
    "div": {"style"},
}
STYLE_PROPERTIES: frozenset[str] = frozenset(
    {"color", "background-color", "text-align", "font-weight", "font-style", "text-decoration"}
)
URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})

_MARKUP = re.compile(r"<[A-Za-z/!]|&[#A-Za-z0-9]+;")
_TAG = re.compile(r"<[^>]*>")


def has_markup(text: str) -> bool:
    """Whether a text holds HTML tags or entities (rather than plain words)."""
    return _MARKUP.search(text) is not None


def rich_html(text: str | None, context: Context = "inline") -> Markup:
    """A label as safe HTML.

    Plain text is escaped and its line breaks become ``<br>``; text with markup keeps only the
    allowed tags, attributes, style properties and link schemes (links get
    ``rel="noopener noreferrer nofollow"``). The result never holds script, event handlers or
    elements that load anything.
    """
    if not text:
        return Markup("")
    if not has_markup(text):
        return Markup("<br>").join(escape(line) for line in text.split("\n"))
    cleaned = nh3.clean(
        text,
        tags=set(BLOCK_TAGS if context == "block" else INLINE_TAGS),
        attributes={k: set(v) for k, v in ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        filter_style_properties=set(STYLE_PROPERTIES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return Markup(cleaned)


def plain_text(text: str | None) -> str:
    """The words of a label without any markup (entities decoded, spaces collapsed)."""
    if not text:
        return ""
    if not has_markup(text):
        return text
    cleaned = nh3.clean(text, tags=set(), strip_comments=True)
    cleaned = _TAG.sub(" ", cleaned)
    return " ".join(html.unescape(cleaned).split())
