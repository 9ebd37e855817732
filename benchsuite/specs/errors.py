"""Validation errors as users read them: one line per violation, naming the file, the field and the value.

pydantic's own message is a multi-line dump with URLs; benchsuite turns each violation into
``FILE: field 'a.b': message (got VALUE)`` so that a bad scenario file, a bad per-device override or a stored spec
that today's schema no longer takes is refused with a line a person can act on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError


def format_validation_error(path: Path | str, exc: ValidationError) -> str:
    """One line per violation: ``FILE: field 'a.b': message (got VALUE)``; a check across fields gives its own
    message (which names the fields and values) after the file."""
    lines = []
    for err in exc.errors(include_url=False):
        msg = err["msg"].removeprefix("Value error, ")
        if not err["loc"]:  # a check across fields: its message names the fields and values itself
            lines.append(f"{path}: {msg}")
            continue
        got = "" if err["type"] == "missing" else f" (got {short(err.get('input'))})"
        lines.append(f"{path}: field '{field_path(err)}': {msg}{got}")
    return "\n".join(lines)


def field_path(err: dict[str, Any]) -> str:
    """The dotted field of one pydantic error (``train.optimizer.lr``)."""
    return ".".join(str(p) for p in err["loc"])


def short(value: Any, limit: int = 80) -> str:
    """``repr(value)``, cut to ``limit`` characters with ``...``."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
