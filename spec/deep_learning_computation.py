"""Chapter 5, Deep Learning Computation: the device helpers of section 5.6."""

from .entry import EXACT, Entry, Reject


def _devices_probe(b):
    """Checks that hold on any machine: the first GPU when there is one, else the CPU."""
    d2l, n = b.d2l, b.num_gpus()
    first, beyond = d2l.try_gpu(), d2l.try_gpu(n)
    kinds = [b.device_kind(d) for d in d2l.try_all_gpus()]
    return [b.device_kind(first) == ("gpu" if n else "cpu"), b.device_kind(beyond) == "cpu",
            kinds == (["gpu"] * n if n else ["cpu"]), b.ones_on(first) == b.device_kind(first)]


ENTRIES = [
    Entry("try_gpu", "5.6", "try_gpu(i=0)",
          "GPU i when at least i + 1 GPUs exist, else the CPU: an MXNet context, a "
          "torch.device, or TensorFlow's tf.device(...) context manager (with _device_name).",
          probe=_devices_probe, expect=lambda: [True] * 4, tol=EXACT,
          rejects=(Reject("negative index", lambda b: (-1,), match="i"),
                   Reject("index 1.0", lambda b: (1.0,), match="i"),
                   Reject("index '0'", lambda b: ("0",), match="i"))),
    Entry("try_all_gpus", "5.6", "try_all_gpus()",
          "Every GPU device, or a one-element list with the CPU.",
          probe=_devices_probe, expect=lambda: [True] * 4, tol=EXACT),
]
