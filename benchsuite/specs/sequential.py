"""Group-sequential seeds: the ``top_up:`` block of a scenario file (:class:`TopUpSpec`).

A scenario's ``seeds`` are the first look (n₀ per case). A claim still inconclusive after a look gets more seeds for
its cases and references only, n₀ more per look, up to ``looks`` looks in all; the seeds of every look are fixed
in advance (:meth:`TopUpSpec.look_seeds`), so a session's runs never depend on the machine's speed, only on which
claims are still open. Each look is judged at its share of the error the claim may spend (repeated confidence
intervals, Jennison & Turnbull 2000; Lan & DeMets 1983 error spending), and a verdict is frozen at the first look
that decides it.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from benchsuite.specs.base import Spec


class TopUpSpec(Spec):
    """More seeds, look by look, for the claims a look leaves inconclusive.

    Attributes:
        looks: looks in all, the first included (1: no top-up); look j has j·n₀ seeds per case.
        seeds: the extra seeds in the order they are used (n₀·(looks-1) of them); default: the integers after the
            scenario's largest seed.
    """

    looks: int = Field(3, ge=1, le=5)
    """Looks in all, the first (the scenario's ``seeds``) included; 1 turns top-ups off."""
    seeds: tuple[int, ...] | None = None
    """The extra seeds in order of use; default: the integers after the scenario's largest seed."""

    @model_validator(mode="after")
    def _distinct(self) -> TopUpSpec:
        if self.seeds is not None and len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"top_up.seeds repeat: {list(self.seeds)}")
        return self

    def extra_seeds(self, first: tuple[int, ...]) -> tuple[int, ...]:
        """The n₀·(looks-1) seeds after ``first`` (the scenario's seeds), in order of use.

        Raises:
            ValueError: ``seeds`` given with too few values, or one of them among ``first``.
        """
        wanted = len(first) * (self.looks - 1)
        if self.seeds is None:
            start = max(first) + 1
            return tuple(range(start, start + wanted))
        if len(self.seeds) < wanted or set(self.seeds) & set(first):
            raise ValueError(
                f"top_up.seeds needs {wanted} seeds not among seeds {list(first)} for {self.looks} looks, "
                f"got {list(self.seeds)}"
            )
        return self.seeds[:wanted]

    def look_seeds(self, first: tuple[int, ...], look: int) -> tuple[int, ...]:
        """The seeds of look ``look`` (1-based): the first ``look``·n₀ of ``first`` followed by the extra seeds.

        Raises:
            ValueError: ``look`` outside 1..``looks``.
        """
        if not 1 <= look <= self.looks:
            raise ValueError(f"look {look} outside 1..{self.looks}")
        return (*first, *self.extra_seeds(first))[: look * len(first)]

    def new_seeds(self, first: tuple[int, ...], look: int) -> tuple[int, ...]:
        """The n₀ seeds look ``look`` adds to the looks before it (the scenario's ``seeds`` for look 1).

        Raises:
            ValueError: ``look`` outside 1..``looks``, or ``seeds`` too few (see :meth:`extra_seeds`).
        """
        return self.look_seeds(first, look)[(look - 1) * len(first) :]

    def look_of(self, first: tuple[int, ...], seed: int) -> int | None:
        """The look whose seeds include ``seed`` first (1 for the scenario's own), or None for a seed of no look."""
        seeds = (*first, *self.extra_seeds(first))
        return seeds.index(seed) // len(first) + 1 if seed in seeds else None
