"""REDCap's logic and calculation language: parsed once into a tree, evaluated safely.

One language serves branching logic (show a field only if ...), calculated fields and the
action tags that compute (``@CALCTEXT``, ``@DEFAULT``). :func:`parse` turns the text into a tree
of small frozen nodes with a recursive-descent parser (no ``eval``); :meth:`Expression.evaluate`
walks that tree against the answers given by a :class:`Context`. Errors in the text raise
:class:`LogicError` naming the position (1-based character) and, where it matters, the field.

Semantics follow REDCap's documented behaviour:

- ``[field]`` is the stored answer; ``[field(code)]`` of a checkbox is ``1`` when the option is
  ticked and ``0`` when not; ``[event][field]`` reads the answer given at another event (wave).
- A blank answer equals ``""`` and nothing else. ``<``, ``<=``, ``>``, ``>=`` with a blank side
  are false. Two values that both read as numbers compare as numbers (``"05" = 5``); otherwise
  they compare as text.
- Arithmetic with a blank or non-numeric operand, division by zero and the square root of a
  negative number give blank (REDCap leaves such a calculated field empty).
- ``sum``, ``mean``, ``median``, ``min``, ``max`` and ``stdev`` ignore blanks and give blank
  when every argument is blank.
- ``round(x, dp)``, ``roundup``, ``rounddown`` default to 0 decimals; halves round away from
  zero.
- ``datediff(d1, d2, unit[, format][, signed])`` is ``d2 - d1`` in ``y`` (365.2425 days),
  ``M`` (30.44 days), ``d``, ``h``, ``m`` or ``s``, not rounded; unsigned (absolute) unless
  ``signed`` is true; ``"today"`` and ``"now"`` are the context's moment; blank when a date is
  blank. Dates are stored as ``Y-M-D`` whatever their display order; ``format`` only says how
  literal dates in the expression are written.
- ``contains``, ``not_contain``, ``starts_with`` and ``ends_with`` ignore case.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

Value = float | str | bool | None
"""A value during evaluation: a number, text, a truth value, or None for blank."""


class LogicError(ValueError):
    """An expression that cannot be parsed or that names something unknown.

    ``position`` is the 1-based character where the problem starts (0 when not tied to one)
    and ``field`` the field concerned, when there is one.
    """

    def __init__(self, message: str, position: int = 0, field: str | None = None) -> None:
        where = f"at character {position}: " if position else ""
        super().__init__(where + message)
        self.position = position
        self.field = field


# --- the tree ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    """A number or text written in the expression (text ``""`` is blank)."""

    value: Value
    position: int


@dataclass(frozen=True)
class FieldRef:
    """``[event][name(code)]``: an answer, optionally of another event, or a checkbox option."""

    name: str
    position: int
    event: str | None = None
    code: str | None = None


@dataclass(frozen=True)
class Unary:
    """``-x`` or ``not x``."""

    op: str
    operand: Node
    position: int


@dataclass(frozen=True)
class Binary:
    """Arithmetic (``+ - * / ^``), a comparison or ``and`` / ``or``."""

    op: str
    left: Node
    right: Node
    position: int


@dataclass(frozen=True)
class Call:
    """A function call such as ``sum([a], [b])``."""

    name: str
    args: tuple[Node, ...]
    position: int


Node = Literal | FieldRef | Unary | Binary | Call


# --- tokens ------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>\d+(?:\.\d*)?|\.\d+)
  | (?P<string>"[^"]*"|'[^']*')
  | (?P<field>\[[^\[\]]*\])
  | (?P<op><>|!=|<=|>=|==|&&|\|\||[=<>+\-*/^(),])
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    """,
    re.VERBOSE,
)
_FIELD_BODY = re.compile(r"^(?P<name>[A-Za-z][A-Za-z0-9_]*)(?:\((?P<code>[^()]*)\))?$")
_COMPARISONS = frozenset({"=", "<>", "<", ">", "<=", ">="})


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    position: int


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    at = 0
    while at < len(text):
        m = _TOKEN.match(text, at)
        if m is None:
            char = text[at]
            hint = " (text needs matching quotes)" if char in "\"'" else ""
            raise LogicError(f"unexpected {char!r}{hint}", at + 1)
        kind = m.lastgroup or ""
        if kind != "space":
            tokens.append(_Token(kind, m.group(), at + 1))
        at = m.end()
    tokens.append(_Token("end", "", len(text) + 1))
    return tokens


# --- functions ---------------------------------------------------------------------------------

_ARITY: dict[str, tuple[int, int]] = {
    "if": (3, 3),
    "sum": (1, 999),
    "mean": (1, 999),
    "median": (1, 999),
    "min": (1, 999),
    "max": (1, 999),
    "stdev": (1, 999),
    "round": (1, 2),
    "roundup": (1, 2),
    "rounddown": (1, 2),
    "abs": (1, 1),
    "sqrt": (1, 1),
    "exponential": (1, 1),
    "log": (1, 2),
    "datediff": (3, 5),
    "contains": (2, 2),
    "not_contain": (2, 2),
    "starts_with": (2, 2),
    "ends_with": (2, 2),
    "isblankormissingcode": (1, 1),
    "isnumber": (1, 1),
    "isinteger": (1, 1),
    "concat": (1, 999),
    "length": (1, 1),
    "lower": (1, 1),
    "upper": (1, 1),
    "trim": (1, 1),
    "left": (2, 2),
    "right": (2, 2),
    "mid": (3, 3),
    "year": (1, 1),
    "month": (1, 1),
    "day": (1, 1),
}
MAX_DEPTH = 60
"""Nesting limit of brackets and calls, so that hostile input cannot exhaust the stack."""

FUNCTIONS: frozenset[str] = frozenset(_ARITY)
"""The function names the language knows."""


# --- the parser --------------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0
        self.depth = 0

    @property
    def tok(self) -> _Token:
        return self.tokens[self.at]

    def _take(self) -> _Token:
        tok = self.tokens[self.at]
        self.at += 1
        return tok

    def _is(self, *texts: str) -> bool:
        tok = self.tok
        if tok.kind == "word":
            return tok.text.lower() in texts
        return tok.kind == "op" and tok.text in texts

    def _expect(self, text: str, what: str) -> _Token:
        if not self._is(text):
            raise LogicError(
                f"expected {what}, found {self._describe(self.tok)}", self.tok.position
            )
        return self._take()

    @staticmethod
    def _describe(tok: _Token) -> str:
        return "the end of the expression" if tok.kind == "end" else repr(tok.text)

    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise LogicError("the expression is empty", 1)
        node = self._or()
        if self.tok.kind != "end":
            raise LogicError(
                f"unexpected {self._describe(self.tok)} after a complete expression "
                "(missing 'and' / 'or' or an operator?)",
                self.tok.position,
            )
        return node

    def _or(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise LogicError(f"more than {MAX_DEPTH} nested brackets or calls", self.tok.position)
        try:
            return self._or_chain()
        finally:
            self.depth -= 1

    def _or_chain(self) -> Node:
        node = self._and()
        while self._is("or", "||"):
            tok = self._take()
            node = Binary("or", node, self._and(), tok.position)
        return node

    def _and(self) -> Node:
        node = self._not()
        while self._is("and", "&&"):
            tok = self._take()
            node = Binary("and", node, self._not(), tok.position)
        return node

    def _not(self) -> Node:
        if self._is("not"):
            tok = self._take()
            return Unary("not", self._not(), tok.position)
        return self._comparison()

    def _comparison(self) -> Node:
        node = self._sum()
        if self.tok.kind == "op" and self.tok.text in ("=", "==", "<>", "!=", "<", ">", "<=", ">="):
            tok = self._take()
            op = {"==": "=", "!=": "<>"}.get(tok.text, tok.text)
            node = Binary(op, node, self._sum(), tok.position)
            if self.tok.kind == "op" and self.tok.text in ("=", "==", "<>", "!=", "<", ">"):
                raise LogicError(
                    "two comparisons in a row: join them with 'and' or 'or'", self.tok.position
                )
        return node

    def _sum(self) -> Node:
        node = self._product()
        while self._is("+", "-"):
            tok = self._take()
            node = Binary(tok.text, node, self._product(), tok.position)
        return node

    def _product(self) -> Node:
        node = self._unary()
        while self._is("*", "/"):
            tok = self._take()
            node = Binary(tok.text, node, self._unary(), tok.position)
        return node

    def _unary(self) -> Node:
        if self._is("-", "+"):
            tok = self._take()
            operand = self._unary()
            return operand if tok.text == "+" else Unary("-", operand, tok.position)
        return self._power()

    def _power(self) -> Node:
        node = self._atom()
        if self._is("^"):
            tok = self._take()
            node = Binary("^", node, self._unary(), tok.position)
        return node

    def _atom(self) -> Node:
        tok = self.tok
        if tok.kind == "number":
            self._take()
            return Literal(float(tok.text), tok.position)
        if tok.kind == "string":
            self._take()
            body = tok.text[1:-1]
            return Literal(body if body != "" else None, tok.position)
        if tok.kind == "field":
            return self._field()
        if self._is("("):
            self._take()
            node = self._or()
            self._expect(")", "')'")
            return node
        if tok.kind == "word":
            word = tok.text.lower()
            self._take()
            if word in ("true", "false"):
                return Literal(word == "true", tok.position)
            if not self._is("("):
                raise LogicError(
                    f"unknown word {tok.text!r} (a field is written in square brackets: "
                    f"[{tok.text}]; text in quotes)",
                    tok.position,
                )
            if word not in _ARITY:
                raise LogicError(f"unknown function {tok.text!r}", tok.position)
            return self._call(word, tok.position)
        raise LogicError(f"expected a value, found {self._describe(tok)}", tok.position)

    def _field(self) -> FieldRef:
        first = self._take()
        name, code = self._field_body(first)
        if self.tok.kind == "field" and code is None:
            # [event][field]: the first bracket names the event.
            second = self._take()
            event_name = name
            name, code = self._field_body(second)
            return FieldRef(name, first.position, event=event_name, code=code)
        return FieldRef(name, first.position, code=code)

    @staticmethod
    def _field_body(tok: _Token) -> tuple[str, str | None]:
        body = tok.text[1:-1].strip()
        m = _FIELD_BODY.match(body)
        if m is None:
            raise LogicError(
                f"{tok.text} is not a field: write [name] or [name(code)] with letters, digits "
                "and _",
                tok.position,
            )
        code = m["code"].strip() if m["code"] is not None else None
        if code == "":
            raise LogicError(f"{tok.text}: the checkbox code in () is empty", tok.position)
        return m["name"].lower(), code

    def _call(self, name: str, position: int) -> Call:
        self._expect("(", "'('")
        args: list[Node] = []
        if not self._is(")"):
            args.append(self._or())
            while self._is(","):
                self._take()
                args.append(self._or())
        self._expect(")", f"')' to close {name}(")
        lo, hi = _ARITY[name]
        if not lo <= len(args) <= hi:
            wanted = str(lo) if lo == hi else f"{lo} to {hi}" if hi < 999 else f"at least {lo}"
            raise LogicError(f"{name}() takes {wanted} arguments, found {len(args)}", position)
        return Call(name, tuple(args), position)


# --- evaluation --------------------------------------------------------------------------------

Resolver = Callable[[str | None, str], Any]
"""``resolve(event, field)`` gives the stored answer (None when blank or unknown)."""


@dataclass(frozen=True)
class Context:
    """What an expression is evaluated against.

    ``resolve(event, field)`` returns a typed answer (number, text, date, list of checkbox
    codes) or None; ``event`` is None for the current one. ``now`` gives ``today`` and ``now``
    (blank when None).
    ``missing_codes`` are the project's missing-data codes (``isblankormissingcode``).
    """

    resolve: Resolver
    now: dt.datetime | None
    missing_codes: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls,
        values: Mapping[str, Any],
        now: dt.datetime | None,
        events: Mapping[str, Mapping[str, Any]] | None = None,
        missing_codes: Iterable[str] = (),
    ) -> Context:
        """A context over plain mappings: this event's answers and, by event, earlier ones."""
        other = events or {}

        def resolve(event: str | None, name: str) -> Any:
            if event is None:
                return values.get(name)
            return other.get(event, {}).get(name)

        return cls(resolve, now, frozenset(missing_codes))


def _blank(v: Any) -> bool:
    return v is None or v == "" or (isinstance(v, float) and math.isnan(v))


def _stored(raw: Any) -> Value:
    """An answer as REDCap stores it: text or number; dates as ``Y-M-D``."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        return 1.0 if raw else 0.0
    if isinstance(raw, int | float):
        return None if isinstance(raw, float) and not math.isfinite(raw) else float(raw)
    if isinstance(raw, dt.datetime):
        return raw.strftime("%Y-%m-%d %H:%M" if raw.second == 0 else "%Y-%m-%d %H:%M:%S")
    if isinstance(raw, dt.date):
        return raw.isoformat()
    if isinstance(raw, dt.time):
        return raw.strftime("%H:%M")
    if isinstance(raw, list | tuple | set | frozenset):
        return ",".join(str(v) for v in raw) or None
    text = str(raw)
    return text if text != "" else None


def _number(v: Value) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, float):
        return v
    text = v.strip()
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text):
        return None
    return float(text)


def truthy(v: Value) -> bool:
    """Whether a value counts as true: not blank, not 0, not ``"0"``, not false."""
    if v is None:
        return False
    if isinstance(v, bool):
        return v
    n = _number(v)
    if n is not None:
        return n != 0
    return v != ""


def _text(v: Value) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    return v


def _equal(a: Value, b: Value) -> bool:
    if _blank(a) or _blank(b):
        return _blank(a) and _blank(b)
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None:
        return na == nb
    return _text(a) == _text(b)


def _order(op: str, a: Value, b: Value) -> bool:
    if _blank(a) or _blank(b):
        return False
    na, nb = _number(a), _number(b)
    left: Any
    right: Any
    if na is not None and nb is not None:
        left, right = na, nb
    else:
        left, right = _text(a), _text(b)
    return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]


_UNIT_SECONDS = {
    "y": 365.2425 * 86400,
    "M": 30.44 * 86400,
    "d": 86400.0,
    "h": 3600.0,
    "m": 60.0,
    "s": 1.0,
}
_LITERAL_DATE_ORDER = {"ymd": "%Y-%m-%d", "mdy": "%m-%d-%Y", "dmy": "%d-%m-%Y"}


def _moment(v: Value, now: dt.datetime | None, order: str) -> dt.datetime | None:
    if _blank(v):
        return None
    text = _text(v).strip()
    lowered = text.lower()
    if lowered in ("today", "now"):
        if now is None:
            return None
        # Stored dates and times carry no zone: compare on the same footing.
        naive = now.replace(tzinfo=None)
        return dt.datetime.combine(naive.date(), dt.time()) if lowered == "today" else naive
    text = text.replace("/", "-").replace("T", " ")
    date_part, _, time_part = text.partition(" ")
    formats = ["%Y-%m-%d", _LITERAL_DATE_ORDER.get(order, "%Y-%m-%d")]
    for fmt in formats:
        try:
            day = dt.datetime.strptime(date_part, fmt)
        except ValueError:
            continue
        if not time_part:
            return day
        for tfmt in ("%H:%M", "%H:%M:%S"):
            try:
                t = dt.datetime.strptime(time_part, tfmt).time()
            except ValueError:
                continue
            return dt.datetime.combine(day.date(), t)
        return None
    for tfmt in ("%H:%M", "%H:%M:%S"):
        try:
            t = dt.datetime.strptime(text, tfmt).time()
        except ValueError:
            continue
        # A bare time is a time of the same (any) day, as REDCap's time fields are.
        return dt.datetime.combine(dt.date(2000, 1, 1), t)
    return None


def _rounded(x: float, places: float, mode: str) -> float:
    try:
        q = Decimal(1).scaleb(-int(places))
        return float(Decimal(repr(x)).quantize(q, rounding=mode))
    except (InvalidOperation, ValueError, OverflowError):
        return x


def _aggregate(name: str, values: Sequence[Value]) -> Value:
    numbers = [n for n in (_number(v) for v in values) if n is not None]
    if not numbers:
        return None
    if name == "sum":
        return float(math.fsum(numbers))
    if name == "mean":
        return float(statistics.fmean(numbers))
    if name == "median":
        return float(statistics.median(numbers))
    if name == "min":
        return min(numbers)
    if name == "max":
        return max(numbers)
    return float(statistics.stdev(numbers)) if len(numbers) > 1 else None


@dataclass(frozen=True)
class Expression:
    """A parsed expression: its text, its tree and the fields it reads."""

    text: str
    tree: Node
    fields: frozenset[tuple[str | None, str]] = field(compare=False)

    def evaluate(self, context: Context) -> Value:
        """The value of the expression (None for blank)."""
        return _Evaluator(context).eval(self.tree)

    def holds(self, context: Context) -> bool:
        """Whether the expression is true (for branching logic)."""
        return truthy(self.evaluate(context))

    def check(
        self,
        fields: Mapping[str, str],
        events: Iterable[str] | None = None,
    ) -> None:
        """Check that every field (and event) named exists.

        Parameters
        ----------
        fields
            Known field names and their kind (``checkbox`` for multiple choice, ``any`` when
            not known; anything else for the rest).
        events
            Known event (wave) names, or None to accept any.

        Raises
        ------
        LogicError
            Naming the first unknown field or event, or a checkbox used without a code (or a
            code given to a field that is not a checkbox).
        """
        known_events = None if events is None else {e.lower() for e in events}
        for ref in _refs(self.tree):
            if ref.name not in fields:
                raise LogicError(f"unknown field [{ref.name}]", ref.position, ref.name)
            if ref.event is not None and known_events is not None and ref.event not in known_events:
                raise LogicError(f"unknown event [{ref.event}]", ref.position, ref.name)
            kind = fields[ref.name]
            if ref.code is not None and kind not in ("checkbox", "any"):
                raise LogicError(
                    f"[{ref.name}({ref.code})]: only a checkbox field takes an option code",
                    ref.position,
                    ref.name,
                )
            if ref.code is None and kind == "checkbox":
                raise LogicError(
                    f"[{ref.name}] is a checkbox: name the option, e.g. [{ref.name}(1)] = '1'",
                    ref.position,
                    ref.name,
                )


def _refs(node: Node) -> Iterable[FieldRef]:
    if isinstance(node, FieldRef):
        yield node
    elif isinstance(node, Unary):
        yield from _refs(node.operand)
    elif isinstance(node, Binary):
        yield from _refs(node.left)
        yield from _refs(node.right)
    elif isinstance(node, Call):
        for arg in node.args:
            yield from _refs(arg)


def parse(text: str) -> Expression:
    """Parse REDCap logic or a calculation.

    Raises
    ------
    LogicError
        With the position of the first problem.
    """
    tree = _Parser(text).parse()
    return Expression(text, tree, frozenset((r.event, r.name) for r in _refs(tree)))


class _Evaluator:
    def __init__(self, context: Context) -> None:
        self.ctx = context

    def eval(self, node: Node) -> Value:
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, FieldRef):
            return self._field(node)
        if isinstance(node, Unary):
            value = self.eval(node.operand)
            if node.op == "not":
                return not truthy(value)
            n = _number(value)
            return None if n is None else -n
        if isinstance(node, Binary):
            return self._binary(node)
        return self._call(node)

    def _field(self, ref: FieldRef) -> Value:
        raw = self.ctx.resolve(ref.event, ref.name)
        if ref.code is not None:
            chosen = raw if isinstance(raw, list | tuple | set | frozenset) else []
            return "1" if ref.code in {str(c) for c in chosen} else "0"
        return _stored(raw)

    def _binary(self, node: Binary) -> Value:
        op = node.op
        if op == "and":
            return truthy(self.eval(node.left)) and truthy(self.eval(node.right))
        if op == "or":
            return truthy(self.eval(node.left)) or truthy(self.eval(node.right))
        a, b = self.eval(node.left), self.eval(node.right)
        if op == "=":
            return _equal(a, b)
        if op == "<>":
            return not _equal(a, b)
        if op in _COMPARISONS:
            return _order(op, a, b)
        x, y = _number(a), _number(b)
        if x is None or y is None:
            return None
        try:
            if op == "+":
                result = x + y
            elif op == "-":
                result = x - y
            elif op == "*":
                result = x * y
            elif op == "/":
                if y == 0:
                    return None
                result = x / y
            else:
                result = math.pow(x, y)
        except (OverflowError, ValueError, ZeroDivisionError):
            return None
        return result if math.isfinite(result) else None

    def _call(self, node: Call) -> Value:
        name = node.name
        if name == "if":
            condition = self.eval(node.args[0])
            return self.eval(node.args[1] if truthy(condition) else node.args[2])
        args = [self.eval(a) for a in node.args]
        if name in ("sum", "mean", "median", "min", "max", "stdev"):
            return _aggregate(name, args)
        if name in ("round", "roundup", "rounddown"):
            x = _number(args[0])
            places = _number(args[1]) if len(args) > 1 else 0.0
            if x is None or places is None:
                return None
            mode = {"round": ROUND_HALF_UP, "roundup": ROUND_CEILING, "rounddown": ROUND_FLOOR}
            return _rounded(x, places, mode[name])
        if name in ("abs", "sqrt", "exponential", "log"):
            return self._math(name, args)
        if name == "datediff":
            return self._datediff(args)
        if name in ("contains", "not_contain", "starts_with", "ends_with"):
            hay, needle = _text(args[0]).lower(), _text(args[1]).lower()
            return {
                "contains": needle in hay,
                "not_contain": needle not in hay,
                "starts_with": hay.startswith(needle),
                "ends_with": hay.endswith(needle),
            }[name]
        if name == "isblankormissingcode":
            return _blank(args[0]) or _text(args[0]) in self.ctx.missing_codes
        if name == "isnumber":
            return _number(args[0]) is not None
        if name == "isinteger":
            n = _number(args[0])
            return n is not None and n.is_integer()
        return self._text_function(name, args)

    @staticmethod
    def _math(name: str, args: list[Value]) -> Value:
        x = _number(args[0])
        if x is None:
            return None
        if name == "abs":
            return abs(x)
        if name == "sqrt":
            return math.sqrt(x) if x >= 0 else None
        if name == "exponential":
            try:
                return math.exp(x)
            except OverflowError:
                return None
        base = _number(args[1]) if len(args) > 1 else math.e
        if x <= 0 or base is None or base <= 0 or base == 1:
            return None
        return math.log(x, base)

    def _datediff(self, args: list[Value]) -> Value:
        unit = _text(args[2]).strip()
        unit = unit if unit in _UNIT_SECONDS else unit.lower()
        if unit not in _UNIT_SECONDS:
            return None
        order, signed = "ymd", False
        for extra in args[3:]:
            if isinstance(extra, bool):
                signed = extra
            elif _text(extra).lower() in ("true", "false"):
                signed = _text(extra).lower() == "true"
            elif _text(extra).lower() in _LITERAL_DATE_ORDER:
                order = _text(extra).lower()
        first = _moment(args[0], self.ctx.now, order)
        second = _moment(args[1], self.ctx.now, order)
        if first is None or second is None:
            return None
        seconds = (second - first).total_seconds()
        value = seconds / _UNIT_SECONDS[unit]
        return value if signed else abs(value)

    def _text_function(self, name: str, args: list[Value]) -> Value:
        if name == "concat":
            return "".join(_text(a) for a in args)
        if name in ("year", "month", "day"):
            moment = _moment(args[0], self.ctx.now, "ymd")
            if moment is None:
                return None
            return float(getattr(moment, name))
        text = _text(args[0])
        if name == "length":
            return float(len(text))
        if name == "lower":
            return text.lower()
        if name == "upper":
            return text.upper()
        if name == "trim":
            return text.strip()
        count = _number(args[1])
        if count is None or count < 0:
            return None
        n = int(count)
        if name == "left":
            return text[:n]
        if name == "right":
            return text[-n:] if n else ""
        length = _number(args[2])
        if length is None or length < 0 or n < 1:
            return None
        return text[n - 1 : n - 1 + int(length)]


def add_time(value: Value, amount: Value, unit: str, now: dt.datetime | None = None) -> str | None:
    """A date (or date and time) moved by ``amount`` units (``y M d h m s``), as stored text.

    What ``@CALCDATE`` computes: a year is 365.2425 days and a month 30.44 days, as in
    ``datediff``. A date alone stays a date when the shift is whole days; blank in, blank out.
    """
    moment = _moment(value, now, "ymd")
    number = _number(amount)
    if moment is None or number is None or unit not in _UNIT_SECONDS:
        return None
    try:
        shifted = moment + dt.timedelta(seconds=number * _UNIT_SECONDS[unit])
    except OverflowError:
        return None
    had_time = " " in _text(value).strip() or _text(value).strip().lower() == "now"
    if not had_time and shifted.time() == dt.time():
        return shifted.date().isoformat()
    return shifted.strftime("%Y-%m-%d %H:%M")


def to_json(node: Node) -> list[Any]:
    """The tree as nested lists, for the browser's evaluator of the same language.

    ``["lit", value]``, ``["field", event, name, code]``, ``["un", op, x]``,
    ``["bin", op, a, b]``, ``["call", name, args...]``.
    """
    if isinstance(node, Literal):
        return ["lit", node.value]
    if isinstance(node, FieldRef):
        return ["field", node.event, node.name, node.code]
    if isinstance(node, Unary):
        return ["un", node.op, to_json(node.operand)]
    if isinstance(node, Binary):
        return ["bin", node.op, to_json(node.left), to_json(node.right)]
    return ["call", node.name, *(to_json(a) for a in node.args)]
