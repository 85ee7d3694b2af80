"""A small adapter per framework: NumPy in, framework tensors out, and back.

The spec and the tests talk to every framework through `Backend`, so one test body serves
MXNet, PyTorch and TensorFlow. Frameworks are imported lazily, and always MXNet before
TensorFlow: importing TensorFlow first and MXNet second crashes the process (segmentation
fault seen with TensorFlow 2.17 and MXNet 1.9.1).
"""

import functools
import importlib
import importlib.util
import os

import numpy as np

from d2l.common.tensors import to_numpy

ORDER = ("mxnet", "torch", "tensorflow")


class Backend:
    """One framework as the spec sees it, on the CPU or (`gpu=True`) on its first GPU.

    Images are NCHW in the spec (`images` converts to the framework's layout).
    """

    def __init__(self, name, gpu=False):
        if name not in ORDER:
            raise ValueError(f"Backend: name must be one of {ORDER}, got {name!r}")
        self.name, self.gpu = name, gpu

    def __repr__(self):
        return f"{self.name}-gpu" if self.gpu else self.name

    @property
    def device(self):
        """The device tensors are made on: a framework device object (TensorFlow: a name)."""
        if self.name == "mxnet":
            return self.fw.gpu(0) if self.gpu else self.fw.cpu()
        if self.name == "torch":
            return self.fw.device("cuda:0" if self.gpu else "cpu")
        return "/GPU:0" if self.gpu else "/CPU:0"

    def has_gpu(self):
        """Whether this framework sees a GPU here."""
        return self.num_gpus() > 0

    @functools.cached_property
    def d2l(self):
        """The backend module `d2l.<name>`."""
        return importlib.import_module(f"d2l.{self.name}")

    @functools.cached_property
    def fw(self):
        """The framework itself: mxnet, torch or tensorflow."""
        return importlib.import_module(self.name)

    @property
    def channels_last(self):
        return self.name == "tensorflow"

    def tensor(self, a, dtype=None):
        """A framework tensor holding a copy of the NumPy array `a` (dtype preserved)."""
        a = np.array(a, dtype=dtype)
        if self.name == "mxnet":
            return self.fw.np.array(a, dtype=a.dtype, ctx=self.device)
        if self.name == "torch":
            return self.fw.from_numpy(a).to(self.device)  # np.array made a C-ordered copy
        with self.fw.device(self.device):
            return self.fw.identity(self.fw.constant(a))

    def param(self, a):
        """A trainable parameter initialised from `a` (float32)."""
        a = np.asarray(a, dtype=np.float32)
        if self.name == "mxnet":
            p = self.fw.np.array(a, ctx=self.device)
            p.attach_grad()
            return p
        if self.name == "torch":
            return self.fw.tensor(a, requires_grad=True, device=self.device)
        with self.fw.device(self.device):
            return self.fw.Variable(a)

    def labels(self, y):
        """Class ids in the framework's label dtype (int32 for MXNet/TensorFlow, int64 torch)."""
        return self.tensor(np.asarray(y), "int64" if self.name == "torch" else "int32")

    def images(self, x):
        """NCHW images (NumPy) as a tensor in the framework's layout (NHWC for TensorFlow)."""
        x = np.asarray(x, dtype=np.float32)
        return self.tensor(x.transpose(0, 2, 3, 1) if self.channels_last else x)

    def from_images(self, t):
        """A framework image batch back as NCHW NumPy."""
        x = self.numpy(t)
        return x.transpose(0, 3, 1, 2) if self.channels_last else x

    @staticmethod
    def numpy(t):
        return to_numpy(t)

    def sgd_step(self, loss_fn, params, lr):
        """One step of plain gradient descent on `loss_fn()` (a scalar) w.r.t. `params`,
        differentiated by the framework's autograd; returns the loss as a float."""
        fw = self.fw
        if self.name == "mxnet":
            with fw.autograd.record():
                loss = loss_fn()
            loss.backward()
            for p in params:
                p[:] = p - lr * p.grad
        elif self.name == "torch":
            loss = loss_fn()
            loss.backward()
            with fw.no_grad():
                for p in params:
                    p -= lr * p.grad
                    p.grad.zero_()
        else:
            with fw.GradientTape() as tape:
                loss = loss_fn()
            for p, g in zip(params, tape.gradient(loss, params)):
                p.assign_sub(lr * g)
        return float(self.numpy(loss))

    def device_kind(self, device):
        """'cpu' or 'gpu' for a device object of this framework."""
        if self.name == "mxnet":
            return device.device_type
        if self.name == "torch":
            return "gpu" if device.type == "cuda" else device.type
        return device._device_name.split(":")[0].strip("/").lower()

    def num_gpus(self):
        if self.name == "mxnet":
            return self.fw.npx.num_gpus()
        if self.name == "torch":
            return self.fw.cuda.device_count()
        return len(self.fw.config.list_physical_devices("GPU"))

    def ones_on(self, device):
        """A small tensor created on `device`, and the kind of device it landed on."""
        if self.name == "mxnet":
            return self.fw.np.ones(2, ctx=device).ctx.device_type
        if self.name == "torch":
            t = self.fw.ones(2, device=device)
            return "gpu" if t.device.type == "cuda" else "cpu"
        with device:
            t = self.fw.ones(2)
        return "gpu" if "GPU" in t.device else "cpu"

    def dtype_name(self, t):
        """The dtype of a tensor as a NumPy-style name ('float32', 'int64', ...)."""
        return np.dtype(self.numpy(t).dtype).name


def installed():
    """Names of the frameworks importable here, in safe import order."""
    return [n for n in ORDER if importlib.util.find_spec(n) is not None]


def active():
    """The backends under test: `$D2L_TEST_BACKENDS` (comma-separated) or all installed ones,
    imported in safe order."""
    wanted = os.environ.get("D2L_TEST_BACKENDS")
    names = [n.strip() for n in wanted.split(",")] if wanted else installed()
    unknown = set(names) - set(ORDER)
    if unknown:
        raise ValueError(f"D2L_TEST_BACKENDS names unknown frameworks {sorted(unknown)}")
    backends = [Backend(n) for n in ORDER if n in names]
    for b in backends:
        b.d2l  # noqa: B018  (import now, in order)
    return backends
