"""Which runs a claim compares: each selected case with the reference that shares its other axes, their seeds, and
their paired step-timing blocks. Shared by the per-case summary, the claim verdicts and
the comparison of results files (which pairs runs by seed).

Step-timing blocks are analysed by quadruple: the session times a pair of cases in blocks ABBA (the case first in
even block pairs, the reference first in odd ones), so two consecutive block pairs, AB then BA, are one quadruple in
which a linear drift of the machine falls on both cases alike. Each quadruple gives one ratio of summed seconds per
summed step (:func:`quadruple_log_ratios`); the quadruples, not the block pairs, are the independent units of the
signed-rank interval: within an AB pair the second block always runs later, so a drift favours whichever goes second
and consecutive block pairs err in opposite directions; summed over AB + BA the order cancels to first order."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from benchsuite.specs.claims import ClaimSpec


def selected(row: pd.Series, selection: dict[str, tuple[str, ...] | list[str]]) -> bool:
    """Whether the run ``row`` has, on every axis of ``selection``, one of the selected values."""
    return all(row.get(f"axis_{axis}") in values for axis, values in selection.items())


def same_except(runs: pd.DataFrame, row: pd.Series, against: dict[str, str]) -> pd.Series:
    """Mask of the runs that share ``row``'s value on every axis, except that the axes in ``against`` take its
    values (axes of other scenarios, NaN in ``row``, play no part)."""
    mask = pd.Series(True, index=runs.index)
    for column in (c for c in runs.columns if c.startswith("axis_") and not pd.isna(row[c])):
        axis = column.removeprefix("axis_")
        mask &= runs[column] == against.get(axis, row[column])
    return mask


def common_seeds(case: pd.DataFrame, reference: pd.DataFrame) -> list[int] | None:
    """The seeds both sides ran, when each side ran each of them once (the runs pair by seed), else None."""
    mine, theirs = case["seed"], reference["seed"]
    if mine.duplicated().any() or theirs.duplicated().any() or set(mine) != set(theirs):
        return None
    return sorted(mine)


@dataclass(frozen=True)
class ComparedPair:
    """The runs of a case, the runs of the reference it is compared with, and (when the scenario timed them in
    paired blocks) the per-block log ratios of their step times."""

    case: pd.DataFrame
    reference: pd.DataFrame
    blocks: np.ndarray | None  # oriented per-pair log ratios of step time, when the pair was block-timed

    @property
    def ids(self) -> tuple[str, str]:
        return self.case["case_id"].iloc[0], self.reference["case_id"].iloc[0]

    def seeds(self) -> list[int] | None:
        """The seeds both sides ran, when they pair by seed (see :func:`common_seeds`)."""
        return common_seeds(self.case, self.reference)


def compared_pairs(runs: pd.DataFrame, claim: ClaimSpec, blocks: pd.DataFrame | None = None) -> list[ComparedPair]:
    """Each case the claim selects, with the reference that shares its other axes, and its paired blocks."""
    pairs = []
    for case_id, group in runs.groupby("case_id", sort=False):
        if not selected(group.iloc[0], claim.cases):
            continue
        reference = runs[same_except(runs, group.iloc[0], claim.against)]
        if reference.empty or reference["case_id"].iloc[0] == case_id:
            continue
        pairs.append(ComparedPair(group, reference, block_log_ratios(blocks, case_id, reference["case_id"].iloc[0])))
    return pairs


def block_log_ratios(blocks: pd.DataFrame | None, case_id: str, against_id: str) -> np.ndarray | None:
    """log(reference s/step ÷ case s/step) of every quadruple of block pairs timing these two cases (either way
    round, :func:`quadruple_log_ratios`), or None when they were not block-timed.

    Above 0: the case's steps are faster.
    """
    if blocks is None or blocks.empty:
        return None
    for a, b, sign in ((case_id, against_id, 1.0), (against_id, case_id, -1.0)):
        rows = blocks[(blocks["case_id"] == a) & (blocks["against_id"] == b)]
        if not rows.empty:
            return sign * quadruple_log_ratios(rows)
    return None


def timed_blocks(blocks: pd.DataFrame) -> pd.Series:
    """Mask of the block pairs whose seconds and steps are positive and finite on both sides."""
    values = blocks[["case_s", "case_steps", "against_s", "against_steps"]].apply(pd.to_numeric, errors="coerce")
    return (values.gt(0) & np.isfinite(values)).all(axis=1)


def quadruples(blocks: pd.DataFrame) -> pd.DataFrame:
    """Seconds and steps of each side summed over each quadruple of one timed pair's block pairs (``blocks``: its rows
    of :func:`benchsuite.results.frames.blocks_frame`, in timing order, ``block`` 0, 1, 2, ...): block pairs 2q and
    2q + 1 form quadruple q. A quadruple with a block pair cut short (seconds or steps not positive) is left out,
    and so is the last block pair of an odd count.

    Returns:
        One row per quadruple: ``quadruple``, ``case_s``, ``case_steps``, ``against_s``, ``against_steps``.
    """
    columns = ["case_s", "case_steps", "against_s", "against_steps"]
    if blocks.empty:
        return pd.DataFrame(columns=["quadruple", *columns])
    order = blocks["block"].to_numpy(dtype=int) if "block" in blocks else np.arange(len(blocks))
    frame = blocks.assign(quadruple=order // 2, _ok=timed_blocks(blocks).to_numpy())
    frame[columns] = frame[columns].apply(pd.to_numeric, errors="coerce")
    grouped = frame.groupby("quadruple", sort=True)
    whole = grouped["_ok"].agg(["all", "size"])
    keep = whole.index[whole["all"] & (whole["size"] == 2)]
    return grouped[columns].sum().loc[keep].reset_index()


def quadruple_log_ratios(blocks: pd.DataFrame) -> np.ndarray:
    """log(reference s/step ÷ case s/step) of each quadruple of :func:`quadruples` (seconds and steps summed over its
    AB and BA block pairs), in timing order; above 0: the case's steps are faster."""
    q = quadruples(blocks)
    case_step = q["case_s"].to_numpy(float) / q["case_steps"].to_numpy(float)
    ref_step = q["against_s"].to_numpy(float) / q["against_steps"].to_numpy(float)
    return np.log(ref_step / case_step)
