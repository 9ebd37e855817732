"""The items that ``pytest benchsuite`` collects: one per run (case × seed) of every scenario.

The plugin (:mod:`benchsuite.plugin`) parametrises ``bench_run`` from the scenario folder; this module only hands
each run to it, so the benchmark flow lives in one place.
"""


def test_scenario(bench_run, benchsuite_session, request):
    """Train one run: a smoke check by default, a full benchmarked run with ``--benchmark``."""
    benchsuite_session.execute(bench_run, request)
