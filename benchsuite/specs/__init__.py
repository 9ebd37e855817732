"""The scenario format: typed, frozen pydantic specs of every block of a scenario file, the names they may use, the
claim metrics, the registries open to plugins and the per-device sizes. No torch: validating a file stays light.
"""
