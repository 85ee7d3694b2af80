"""Framework-neutral parts of data-parallel training (sections 12.5, 12.6 and 13.1): the
argument checks of `split_batch` and the device lists, how a batch is cut into shards, and
the loop of `train_ch13` around each backend's own per-batch step.

Shards follow `numpy.array_split`: a batch of n examples over k devices gives shards of
n // k or n // k + 1 examples, the larger ones first, in the batch's order; every device
gets at least one example (n >= k).
"""

from . import checks
from .bookkeeping import Timer
from .plotting import Animator
from .training import CH6_LEGEND


def check_devices(fn, devices, known):
    """Raise ValueError naming `devices` unless it is a non-empty list or tuple whose every
    entry satisfies `known(device)` (the framework has that device)."""
    if not isinstance(devices, (list, tuple)) or not devices:
        got = "an empty list" if isinstance(devices, (list, tuple)) else repr(devices)
        raise ValueError(f"{fn}: devices must be a non-empty list of devices, got {got}")
    missing = [d for d in devices if not known(d)]
    if missing:
        raise ValueError(f"{fn}: devices holds {missing!r}, which this framework does not "
                         f"have here")


def check_distinct(fn, devices):
    """Raise ValueError naming `devices` when one is listed twice: data-parallel training
    keeps one copy of the parameters per device."""
    if len(set(map(str, devices))) < len(devices):
        raise ValueError(f"{fn}: devices must be distinct to train data parallel, got "
                         f"{list(devices)!r}")


def shard_sizes(fn, x_shape, y_shape, num_devices):
    """Examples per shard when a batch X of `x_shape` with labels y of `y_shape` is split
    over `num_devices`; ValueError naming X (or y) for a batch that cannot be split."""
    if not x_shape or not y_shape:
        raise ValueError(f"{fn}: X and y need an example axis (axis 0), got shapes "
                         f"{x_shape} and {y_shape}")
    n = x_shape[0]
    if y_shape[0] != n:
        raise ValueError(f"{fn}: X has {n} examples but y has {y_shape[0]}")
    if n < num_devices:
        raise ValueError(f"{fn}: X holds {n} examples, fewer than the {num_devices} devices: "
                         f"every device needs at least one")
    return [n // num_devices + (i < n % num_devices) for i in range(num_devices)]


def train_ch13(step, evaluate, train_iter, num_epochs, devices):
    """The loop of `train_ch13`, given the backend's per-batch `step(X, y)` returning (loss
    sum, correct predictions, examples, label elements) of the global batch, and
    `evaluate()` giving the test accuracy.

    Plots train loss (loss sum / examples) and train accuracy (correct / label elements) five
    times per epoch (every `max(1, num_batches // 5)` batches and at the last: the book's
    `num_batches // 5` is 0 for fewer than five batches and fails), the test accuracy once per
    epoch; the timer covers the training steps. Prints the final metrics and the examples per
    second on `devices` (its `str`). Returns the last (train loss, train acc, test acc).
    """
    checks.positive_int("train_ch13", "num_epochs", num_epochs)
    timer, num_batches = Timer(), len(train_iter)
    if num_batches == 0:
        raise ValueError("train_ch13: train_iter gave no batches")
    animator = Animator(xlabel="epoch", xlim=[1, num_epochs], ylim=[0, 1], legend=CH6_LEGEND)
    every = max(1, num_batches // 5)
    for epoch in range(num_epochs):
        metric = [0.0] * 4
        for i, (features, labels) in enumerate(train_iter):
            timer.start()
            metric = [m + float(v) for m, v in zip(metric, step(features, labels))]
            timer.stop()
            if (i + 1) % every == 0 or i == num_batches - 1:
                animator.add(epoch + (i + 1) / num_batches,
                             (metric[0] / metric[2], metric[1] / metric[3], None))
        test_acc = evaluate()
        animator.add(epoch + 1, (None, None, test_acc))
    train_l, train_acc = metric[0] / metric[2], metric[1] / metric[3]
    print(f"loss {train_l:.3f}, train acc {train_acc:.3f}, test acc {test_acc:.3f}")
    print(f"{metric[2] * num_epochs / timer.sum():.1f} examples/sec on {devices}")
    return train_l, train_acc, test_acc
