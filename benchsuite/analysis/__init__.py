"""Statistics from results: exact rank statistics and effects with intervals (ranks, effects), which runs are compared
and by the one comparison rule (pairing, contrast), per-case summaries with Kaplan-Meier medians (cases, survival),
claim verdicts judged look by look with error spending (samples, judging, looks, spending, verdicts) and their
vocabulary (decisions), and what is missing, in words. No torch.
"""
