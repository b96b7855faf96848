"""Fused numba kernels of the time-series models: forward and hand-written backward, all seeds at once."""
