"""Command-line values, validated where they are parsed: argparse ``type=`` callables that raise
``argparse.ArgumentTypeError`` with the rule and the value (pytest-benchmark validates its options the same way), for
the pytest options and the ``benchsuite`` command alike. Help texts end with the default (``%(default)s``).

Modes in which results could not be trusted or recorded are refused before anything runs (:func:`refusal`).
"""

from __future__ import annotations

import argparse
import math
from typing import Any


def positive_int(text: str) -> int:
    """An integer ≥ 1 (steps, nodes).

    Raises:
        argparse.ArgumentTypeError: anything else, e.g. ``0`` or ``three``.
    """
    return _at_least(_int(text), 1, text, "a whole number of at least 1")


def non_negative_int(text: str) -> int:
    """An integer ≥ 0 (a seed, a node rank).

    Raises:
        argparse.ArgumentTypeError: a negative or non-integer value.
    """
    return _at_least(_int(text), 0, text, "a whole number of at least 0")


#: The shortest telemetry sampling interval accepted (seconds): 100 samples a second already cost the timed region
#: measurable CPU on a 2-core machine; at 1e-9 s the sampler thread spun at 179 % CPU inside it.
MIN_SAMPLING_INTERVAL_S = 0.01


def sampling_interval(text: str) -> float:
    """Seconds between telemetry samples: 0 (off) or at least :data:`MIN_SAMPLING_INTERVAL_S`, finite.

    Raises:
        argparse.ArgumentTypeError: a negative, too short, infinite or non-numeric value.
    """
    value = _float(text)
    if value == 0.0:
        return value
    return _at_least(value, MIN_SAMPLING_INTERVAL_S, text, f"0 (off) or at least {MIN_SAMPLING_INTERVAL_S:g} seconds")


#: The main job's budget (``pytest benchsuite --benchmark``, seconds, install included) and its pytest seconds without
#: top-ups on the 2-core Intel Xeon with AMX the suite is sized on (about 206 s on 2026-12-01: 253-256 s of pytest in
#: five main jobs, 48-50 s of it top-ups).
MAIN_JOB_BUDGET_S, MAIN_JOB_S = 600.0, 206.0

#: The default budget of top-up seconds (``--top-up-s``). The open claims of a main job on that Xeon took 48-50 s of
#: top-ups (looks 2 and 3 of data-parallel, 6 s each, of optimizers, 7 s each, and of schedules, 11 s each; five main
#: jobs on 2026-12-01), and 56 s once mixed precision's steps claim (non-inferiority) took look 2 of precision (7 s).
#: A look runs only when its estimated cost fits what is left (:mod:`benchsuite.top_ups`), and the last of them,
#: schedules' look 3, must find about twice its 11 s left, so that two sessions on one machine plan the same looks
#: where a budget near the need would cut one session's last look and not the other's: 70 s leaves it 25 s.
#: The budget is in the running machine's own seconds: a machine 2.5x slower (the project's Zen 3 runs the first
#: looks 2.5-3.1x slower per run) plans fewer looks with it.
TOP_UP_BUDGET_S = 70.0


def positive_seconds(text: str) -> float:
    """Seconds > 0, finite (a timeout).

    Raises:
        argparse.ArgumentTypeError: zero, negative, infinite or non-numeric.
    """
    return _at_least(_float(text), math.ulp(0.0), text, "a positive number of seconds")


def factor(text: str) -> float:
    """A finite number ≥ 1 (how many times a count may grow).

    Raises:
        argparse.ArgumentTypeError: below 1, infinite or non-numeric.
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(value) or value < 1.0:
        raise argparse.ArgumentTypeError(f"must be a finite number of at least 1, got {text!r}")
    return value


def non_negative_seconds(text: str) -> float:
    """Seconds ≥ 0, finite (a budget; 0 turns what it pays for off).

    Raises:
        argparse.ArgumentTypeError: negative, infinite or non-numeric.
    """
    return _at_least(_float(text), 0.0, text, "0 (off) or a positive number of seconds")


def _at_least(value, lowest, text: str, rule: str):
    if value < lowest:
        raise argparse.ArgumentTypeError(f"must be {rule}, got {text!r}")
    return value


def host_port(text: str) -> str:
    """``HOST:PORT`` with a port from 1 to 65535 (a c10d rendezvous endpoint, as torchrun's ``--rdzv-endpoint``).

    Raises:
        argparse.ArgumentTypeError: no host, no port, or a port out of range.
    """
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"must be HOST:PORT with a port from 1 to 65535, got {text!r}")
    return text


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds, got {text!r}")
    return value


def refusal(option: Any, is_xdist_worker: bool) -> str | None:
    """Why a ``--benchmark`` session could not be trusted or recorded, or None when it can run.

    ``option`` is pytest's ``config.option``. Refused, as pytest-benchmark itself disables such modes:
    ``--benchmark-disable`` and ``--benchmark-skip`` (pytest-benchmark then records no statistics, so no run would
    be written), and pytest-xdist (``-n``, or a worker process): runs would share the machine and disturb each
    other's clocks, and each worker would write its own partial results file.
    """
    if not getattr(option, "benchmark", False):
        return None
    if getattr(option, "benchmark_disable", False):
        return "--benchmark with --benchmark-disable: pytest-benchmark would record nothing, so no run is written"
    if getattr(option, "benchmark_skip", False):
        return "--benchmark with --benchmark-skip: every benchmark item would be skipped"
    if is_xdist_worker or getattr(option, "numprocesses", None) or getattr(option, "dist", "no") != "no":
        return (
            "--benchmark under pytest-xdist: parallel runs share the machine and disturb each other's timings, "
            "and each worker would write its own results; run without -n"
        )
    return None
