"""Shared by every backend: the argument check of the device helpers (section 5.6) and the
number of data-loader workers (section 3.5)."""

import os

from .checks import non_negative_int


def check_index(i):
    """Raise ValueError unless `i` is a valid GPU index (an int >= 0)."""
    non_negative_int("try_gpu", "i", i)


def dataloader_workers():
    """The book's 4 loader workers, capped at this machine's CPU count: more workers than
    cores only slow loading down (and PyTorch's DataLoader warns about them)."""
    return min(4, os.cpu_count() or 1)
