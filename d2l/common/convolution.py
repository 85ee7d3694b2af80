"""Argument checks of the convolution helpers (section 6.2), shared by every backend."""

from .checks import shape_of


def check_corr2d(X, K):
    """Raise ValueError unless X and K are 2-D and K is non-empty and fits inside X."""
    for name, t in (("X", X), ("K", K)):
        if len(shape_of(t)) != 2:
            raise ValueError(f"corr2d: {name} must be 2-D, got shape {shape_of(t)}")
    if 0 in shape_of(K):
        raise ValueError(f"corr2d: the kernel K is empty (shape {shape_of(K)}); it needs at "
                         f"least one row and one column")
    if any(k > x for k, x in zip(shape_of(K), shape_of(X))):
        raise ValueError(f"corr2d: kernel K of shape {shape_of(K)} is larger than the input X "
                         f"of shape {shape_of(X)}")
