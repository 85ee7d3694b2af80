"""Framework-neutral conversion of tensors to NumPy, without importing any framework."""

import numpy as np


def to_numpy(x):
    """Return `x` as a NumPy array.

    Accepts NumPy arrays, Python scalars and sequences, MXNet arrays (`asnumpy`), PyTorch
    tensors (detached and moved to the CPU first, so GPU tensors and tensors that require grad
    work) and TensorFlow tensors (`numpy`). Lists of tensors are converted element by element.
    """
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "asnumpy"):  # MXNet
        return x.asnumpy()
    if hasattr(x, "detach"):  # PyTorch
        return x.detach().cpu().numpy()
    if hasattr(x, "numpy"):  # TensorFlow (eager tensors and variables)
        return x.numpy()
    if isinstance(x, (list, tuple)):
        return np.asarray([to_numpy(v) for v in x])
    return np.asarray(x)
