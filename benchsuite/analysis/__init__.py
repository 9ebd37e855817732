"""Statistics from results: effects with intervals, which runs are compared and by the one comparison rule, per-case
summaries, claim verdicts and their vocabulary (decisions), and what is missing, in words. No torch.
"""
