"""Profiling: a profiled window per case after its runs, never inside a timed region. Where a step's time goes (its
phases, from the host timeline or, on CUDA, the device timeline), the top operators, peak memory per phase, the host
syncs of a CUDA step, and a Chrome/Perfetto trace a person can open; Holistic Trace Analysis on CUDA traces where it is
installed."""
