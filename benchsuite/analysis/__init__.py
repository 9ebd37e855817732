"""Statistics from results: effects with intervals, which runs are compared and by the one comparison rule, per-case
summaries, and claim verdicts. No torch.
"""
