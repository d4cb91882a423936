"""REDCap action tags (``@HIDDEN``, ``@DEFAULT='3'``, ``@CALCTEXT(...)`` ...) read from a field's
annotation and applied by the form and the server.

The annotation is kept verbatim on the item (so that an export gives it back unchanged);
:func:`tags_of` parses it once into :class:`ActionTags`. Tags Klik does not apply are listed in
``unsupported`` so that an import can name them; tags whose argument is unusable are listed in
``problems``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from questionnaires.logic import LogicError
from questionnaires.logic import parse as parse_logic

SUPPORTED: frozenset[str] = frozenset(
    {
        "@HIDDEN",
        "@HIDDEN-SURVEY",
        "@HIDDEN-FORM",
        "@HIDDEN-APP",
        "@HIDDEN-PDF",
        "@READONLY",
        "@READONLY-SURVEY",
        "@READONLY-FORM",
        "@DEFAULT",
        "@NOW",
        "@TODAY",
        "@NOW-UTC",
        "@TODAY-UTC",
        "@CALCTEXT",
        "@CALCDATE",
        "@NONEOFTHEABOVE",
        "@CHARLIMIT",
        "@WORDLIMIT",
        "@PLACEHOLDER",
    }
)
"""The tags Klik applies. ``@HIDDEN-FORM``, ``@HIDDEN-APP``, ``@HIDDEN-PDF`` and
``@READONLY-FORM`` concern REDCap's data-entry form, app and PDF: they change nothing on a Klik
form, which is always a survey, and are accepted as such."""

_TAG = re.compile(r"@[A-Z][A-Z0-9_-]*")
_UNITS = frozenset({"y", "M", "d", "h", "m", "s"})


@dataclass(frozen=True)
class ActionTags:
    """What a field's action tags ask for (empty when it has none)."""

    hidden: bool = False
    readonly: bool = False
    default: str | None = None
    now: bool = False
    today: bool = False
    calctext: str | None = None
    calcdate: tuple[str, str, str] | None = None
    none_of_the_above: tuple[str, ...] = ()
    charlimit: int | None = None
    wordlimit: int | None = None
    placeholder: str | None = None
    unsupported: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def computed(self) -> bool:
        """Whether the server computes the value (``@CALCTEXT``, ``@CALCDATE``)."""
        return self.calctext is not None or self.calcdate is not None

    @property
    def fixed(self) -> bool:
        """Whether a respondent cannot change the value (hidden, read-only or computed)."""
        return self.hidden or self.readonly or self.computed


def _argument(text: str, at: int) -> tuple[str | None, int]:
    """The argument after a tag (``='x'``, ``="x"``, ``=x`` or ``(...)``) and where it ends."""
    if at < len(text) and text[at] == "(":
        depth, i, quote = 0, at, ""
        while i < len(text):
            ch = text[i]
            if quote:
                if ch == quote:
                    quote = ""
            elif ch in "'\"":
                quote = ch
            elif ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if depth == 0:
                    return text[at + 1 : i], i + 1
            i += 1
        return None, len(text)
    j = at
    while j < len(text) and text[j] == " ":
        j += 1
    if j < len(text) and text[j] == "=":
        j += 1
        while j < len(text) and text[j] == " ":
            j += 1
        if j < len(text) and text[j] in "'\"":
            end = text.find(text[j], j + 1)
            if end == -1:
                return None, len(text)
            return text[j + 1 : end], end + 1
        m = re.match(r"\S+", text[j:])
        return (m.group(), j + m.end()) if m else ("", j)
    return None, at


def _split_args(text: str) -> list[str]:
    parts, depth, quote, current = [], 0, "", ""
    for ch in text:
        if quote:
            current += ch
            if ch == quote:
                quote = ""
            continue
        if ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        current += ch
    parts.append(current.strip())
    return parts


def _formula_error(text: str) -> str | None:
    try:
        parse_logic(text)
    except LogicError as exc:
        return str(exc)
    return None


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


@functools.lru_cache(maxsize=4096)
def tags_of(annotation: str | None) -> ActionTags:
    """The action tags in a field annotation (other text in the annotation is ignored)."""
    if not annotation or "@" not in annotation:
        return ActionTags()
    values: dict[str, object] = {}
    unsupported: list[str] = []
    problems: list[str] = []
    at = 0
    while True:
        m = _TAG.search(annotation, at)
        if m is None:
            break
        name = m.group()
        arg, at = _argument(annotation, m.end())
        if name not in SUPPORTED:
            if name not in unsupported:
                unsupported.append(name)
            continue
        if name in ("@HIDDEN", "@HIDDEN-SURVEY"):
            values["hidden"] = True
        elif name in ("@READONLY", "@READONLY-SURVEY"):
            values["readonly"] = True
        elif name == "@DEFAULT":
            if arg is None:
                problems.append("@DEFAULT needs a value: @DEFAULT='...'")
            else:
                values["default"] = arg
        elif name in ("@NOW", "@NOW-UTC"):
            values["now"] = True
        elif name in ("@TODAY", "@TODAY-UTC"):
            values["today"] = True
        elif name == "@CALCTEXT":
            if not arg:
                problems.append("@CALCTEXT needs a formula: @CALCTEXT(...)")
            elif (error := _formula_error(arg)) is not None:
                problems.append(f"@CALCTEXT({arg}): {error}")
            else:
                values["calctext"] = arg
        elif name == "@CALCDATE":
            parts = _split_args(arg or "")
            unit = _unquote(parts[2]) if len(parts) == 3 else ""
            if len(parts) != 3 or unit not in _UNITS:
                problems.append(
                    "@CALCDATE needs a date, an offset and a unit (y, M, d, h, m, s): "
                    "@CALCDATE([date], 7, 'd')"
                )
            elif (error := _formula_error(parts[0]) or _formula_error(parts[1])) is not None:
                problems.append(f"@CALCDATE({arg}): {error}")
            else:
                values["calcdate"] = (parts[0], parts[1], unit)
        elif name == "@NONEOFTHEABOVE":
            codes = tuple(_unquote(c) for c in _split_args(arg or "") if _unquote(c))
            if not codes:
                problems.append("@NONEOFTHEABOVE needs the option code(s): @NONEOFTHEABOVE='99'")
            else:
                values["none_of_the_above"] = codes
        elif name in ("@CHARLIMIT", "@WORDLIMIT"):
            limit = _unquote(arg or "")
            if not limit.isdigit() or int(limit) < 1:
                problems.append(f"{name} needs a whole number above 0: {name}=255")
            else:
                values[name[1:].lower()] = int(limit)
        elif name == "@PLACEHOLDER":
            if arg is None:
                problems.append("@PLACEHOLDER needs a text: @PLACEHOLDER='...'")
            else:
                values["placeholder"] = arg
    return ActionTags(
        unsupported=tuple(unsupported),
        problems=tuple(problems),
        **values,  # type: ignore[arg-type]
    )
