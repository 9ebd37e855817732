"""Scenario files → runs: load and validate files (one error line per problem), expand a matrix into cases and seeds in
a run order, and the paired step-timing items.
"""
