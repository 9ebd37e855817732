"""Measurement: the clock of timed regions, input stall, the NVML/psutil sampler and its per-run summary, step-time
statistics, MFU, the declaration of every telemetry metric, and the identity of the hardware.
"""
