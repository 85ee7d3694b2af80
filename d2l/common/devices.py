"""Argument check of the device helpers (section 5.6), shared by every backend."""

from .checks import non_negative_int


def check_index(i):
    """Raise ValueError unless `i` is a valid GPU index (an int >= 0)."""
    non_negative_int("try_gpu", "i", i)
