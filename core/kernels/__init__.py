"""Numba kernels: pure jitted free functions, arrays in, arrays (or a preallocated ``out``) out."""
