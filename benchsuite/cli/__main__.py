"""``python -m benchsuite.cli``: the ``benchsuite`` command."""

from benchsuite.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
