"""The record of one check of ``benchsuite doctor``: what was checked, how it came out, one line of words, and the
figures behind it. Checks are made on the run side (NVML and CUDA calls, a short training run) and read on the read
side (the doctor's summary, the report), so the record is plain data and this module imports neither torch nor any
other part of benchsuite.

A results file written by ``benchsuite doctor`` keeps its checks under ``benchsuite.doctor.checks``: a list of
:meth:`Check.as_dict` mappings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["ok", "warn", "fail", "skipped"]

#: Every status a check may end with: ``ok`` (works as the fakes of the tests assume), ``warn`` (works, but a figure
#: will be missing or distorted), ``fail`` (broken: the figures that depend on it cannot be trusted), ``skipped``
#: (does not apply on this machine, e.g. NVML on a CPU; the text says why).
STATUSES: tuple[str, ...] = ("ok", "warn", "fail", "skipped")

#: The statuses a summary lists as something that looked wrong.
PROBLEMS: tuple[str, ...] = ("warn", "fail")


@dataclass(frozen=True)
class Check:
    """One check's outcome.

    Attributes:
        name: what was checked, a short snake_case key (``mfu_peak``, ``nvml_energy_counter``, ``step_syncs_bf16``).
        status: one of :data:`STATUSES`.
        text: one line for a person: what was found, with the figure and its unit.
        details: the figures behind it (JSON types only).

    Raises:
        ValueError: a status outside :data:`STATUSES`.
    """

    name: str
    status: Status
    text: str
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"check {self.name!r}: status {self.status!r} is not one of {list(STATUSES)}")

    def as_dict(self) -> dict[str, Any]:
        """The check as the results file keeps it."""
        return {"name": self.name, "status": self.status, "text": self.text, "details": dict(self.details)}
