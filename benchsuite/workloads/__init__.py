"""Workload builders: datasets that need no network at run time and models, each a registry keyed by the names of
benchsuite.specs.names; local data files checked before anything trains.
"""
