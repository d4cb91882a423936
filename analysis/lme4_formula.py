"""lme4-style model formulas: ``y ~ x + (1 | jobcoach) + (1 | employer)``.

:func:`parse` splits such a formula into its fixed part (patsy syntax, as
:func:`analysis.mixed.fit` takes it) and its random terms, one per bar term, with lme4's
expansions: ``(1 | a/b)`` is ``(1 | a) + (1 | a:b)``, and ``a:b`` groups by the combination of
the two columns. ``||`` (uncorrelated random effects) is refused rather than read as ``|``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Formula", "RandomTerm", "has_random_terms", "parse"]


@dataclass(frozen=True)
class RandomTerm:
    """One bar term ``(expression | grouping)`` after lme4's expansion of ``/``.

    Attributes
    ----------
    columns : tuple of str
        The columns whose combination defines a unit (``("jobcoach", "employee")`` for
        ``jobcoach:employee``).
    intercept : bool
        Whether the term has a random intercept (lme4 drops it for ``0 + x`` or ``-1 + x``).
    slopes : tuple of str
        Random slopes, as patsy terms (``("months",)`` for ``(months | g)``).
    """

    columns: tuple[str, ...]
    intercept: bool = True
    slopes: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The grouping as lme4 writes it: ``jobcoach:employee``."""
        return ":".join(self.columns)

    @property
    def re_formula(self) -> str:
        """The random part as a statsmodels ``re_formula`` (``"~1 + months"``)."""
        return "~" + " + ".join(["1" if self.intercept else "0", *self.slopes])


@dataclass(frozen=True)
class Formula:
    """A parsed lme4 formula: the fixed part in patsy syntax and the random terms in order."""

    fixed: str
    random: tuple[RandomTerm, ...]


def _split_top(text: str, separator: str) -> list[str]:
    """Split at ``separator`` outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _bar_spans(rhs: str) -> list[tuple[int, int]]:
    """Spans of top-level parenthesised groups holding a ``|`` (not function calls)."""
    spans: list[tuple[int, int]] = []
    depth, start = 0, -1
    for i, char in enumerate(rhs):
        if char == "(":
            if depth == 0:
                before = rhs[:i].rstrip()
                is_call = bool(before) and (before[-1].isalnum() or before[-1] in "_.")
                start = -1 if is_call else i
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced parentheses in {rhs!r}")
            if depth == 0 and start >= 0:
                if _has_top_bar(rhs[start + 1 : i]):
                    spans.append((start, i + 1))
                start = -1
    if depth != 0:
        raise ValueError(f"unbalanced parentheses in {rhs!r}")
    return spans


def _has_top_bar(inner: str) -> bool:
    return len(_split_top(inner, "|")) > 1


def _term(inner: str) -> list[RandomTerm]:
    if "||" in inner:
        raise ValueError(
            f"({inner.strip()}): uncorrelated random effects (||) are not supported; "
            "write the terms separately, e.g. (1 | g) + (0 + x | g)"
        )
    left, *rest = _split_top(inner, "|")
    left, right = left.strip(), "|".join(rest).strip()
    if not left or not right:
        raise ValueError(f"({inner.strip()}): a random term needs an expression and a grouping")
    # the random expression: intercept unless 0 or -1, plus slopes
    pieces = [p.strip() for p in re.split(r"\+", left)]
    intercept = True
    slopes: list[str] = []
    for piece in pieces:
        if piece in ("1", ""):
            continue
        if piece in ("0", "-1"):
            intercept = False
            continue
        if piece.endswith("- 1") or piece.endswith("-1"):
            intercept = False
            piece = piece.rsplit("-", 1)[0].strip()
        slopes.append(piece)
    if not intercept and not slopes:
        raise ValueError(f"({inner.strip()}): the random term has neither intercept nor slope")
    # the grouping: a, a:b, a/b (-> a, a:b), a/b/c
    nesting = [part.strip() for part in right.split("/")]
    terms: list[RandomTerm] = []
    prefix: tuple[str, ...] = ()
    for part in nesting:
        columns = tuple(c.strip() for c in part.split(":"))
        for column in columns:
            if not column:
                raise ValueError(f"({inner.strip()}): empty grouping factor")
        prefix = prefix + columns
        terms.append(RandomTerm(prefix, intercept, tuple(slopes)))
    return terms


def has_random_terms(formula: str) -> bool:
    """Whether the formula holds lme4 bar terms such as ``(1 | g)``."""
    if "~" not in formula:
        return False
    return bool(_bar_spans(formula.split("~", 1)[1]))


def parse(formula: str) -> Formula:
    """Split an lme4 formula into its fixed part and random terms.

    Parameters
    ----------
    formula : str
        E.g. ``"y ~ months + (1 | jobcoach) + (1 | employer)"``,
        ``"y ~ 1 + (1 | batch/cask)"`` or ``"y ~ days + (days | subject)"``.

    Returns
    -------
    Formula
        ``fixed`` (``"y ~ months"``; ``"y ~ 1"`` when only random terms were given) and
        ``random`` (the bar terms, ``/`` expanded, duplicates dropped).

    Raises
    ------
    ValueError
        For a formula without ``~``, unbalanced parentheses, ``||`` or an empty bar term.
    """
    if "~" not in formula:
        raise ValueError(f"the formula {formula!r} has no '~'")
    lhs, rhs = formula.split("~", 1)
    spans = _bar_spans(rhs)
    terms: list[RandomTerm] = []
    for start, end in spans:
        for term in _term(rhs[start + 1 : end - 1]):
            if term not in terms:
                terms.append(term)
    kept, last = [], 0
    for start, end in spans:
        kept.append(rhs[last:start])
        kept.append(" ")
        last = end
    kept.append(rhs[last:])
    fixed = "".join(kept)
    # drop the + signs the bar terms leave behind
    parts = [p.strip() for p in _split_top(fixed, "+")]
    fixed_rhs = " + ".join(p for p in parts if p) or "1"
    return Formula(fixed=f"{lhs.strip()} ~ {fixed_rhs}", random=tuple(terms))
