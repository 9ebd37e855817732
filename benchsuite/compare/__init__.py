"""Several results files side by side (machines, commits): matched cases with ratios, the claims matrix, the regression
gate, and the nearest committed reference.
"""
