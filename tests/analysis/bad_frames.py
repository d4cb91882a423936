"""What the property tests of bad input assert: a refusal in words, never a result."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from analysis.minimum_data import TooLittleData
from analysis.validation import BadInput

#: bounded: a few seconds per function
SETTINGS = {"max_examples": 50, "deadline": None}


def assert_refused(call: Callable[[], object], column: str | None = None) -> None:
    """``call`` raises BadInput (naming ``column`` when given) or TooLittleData, nothing else."""
    try:
        result = call()
    except BadInput as exc:
        message = str(exc)
        assert message and exc.problem, "BadInput without a message"
        if column is not None:
            assert repr(column) in message, f"{message!r} does not name {column!r}"
        return
    except TooLittleData as exc:
        assert str(exc).startswith("Too little data"), str(exc)
        return
    except Exception as exc:  # any other escape is the failure looked for
        pytest.fail(f"bare {type(exc).__name__} escaped: {exc}")
    pytest.fail(f"a result from bad input: {result!r}")
