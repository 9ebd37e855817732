"""torchrun under a guard: ``python -m benchsuite.distributed.launch --folder=FOLDER -- <torchrun arguments>``.

It arms the launcher's guard (:func:`benchsuite.distributed.processes.guard_launcher`: when the session that started
it is gone, its ranks are killed, FOLDER is removed and it exits), then runs ``torch.distributed.run`` in this
process with the arguments after ``--``, exactly as ``python -m torch.distributed.run`` would (same exit status).
A guard thread, not ``PR_SET_PDEATHSIG``: that signal follows the thread that started the process, and a pool may be
started from a thread that ends long before the session (the two-node test starts each node's pool so).
"""

from __future__ import annotations

import sys
from pathlib import Path

from benchsuite.distributed.processes import guard_launcher


def main(argv: list[str] | None = None) -> int:
    """Entry point of the launcher.

    Raises:
        SystemExit: a command line without ``--folder=FOLDER --`` in front (status 2); torchrun's own exit status.
        torch.distributed.elastic.multiprocessing.errors.ChildFailedError: a rank failed (as torchrun raises it).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) < 2 or not argv[0].startswith("--folder=") or argv[1] != "--":
        sys.stderr.write("usage: python -m benchsuite.distributed.launch --folder=FOLDER -- <torchrun arguments>\n")
        raise SystemExit(2)
    guard_launcher(Path(argv[0].removeprefix("--folder=")))
    from torch.distributed.run import main as torchrun

    torchrun(argv[2:])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
