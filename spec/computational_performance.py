"""Chapter 12, Computational Performance: split_batch (12.5), resnet18 and
evaluate_accuracy_gpus (12.6); with the helpers the multi-device tests and the 13.1 entries
share: CIFAR-shaped images with learnable structure and a `train_ch13` runner that starts
from canonical weights on any device list."""

import contextlib
import functools
import io

import numpy as np
from hypothesis import strategies as st

from . import canonical, reference
from .entry import Entry, Invalid, Reject, Tol

# ----------------------------------------------------------------- 12.5 split_batch


def split_batch_reference(X, y, k):
    """numpy.array_split of X and y into k shards (n // k or n // k + 1 examples, larger
    first, in order); a batch with fewer than k examples is invalid."""
    if len(X) < k:
        raise Invalid("X")
    return [list(np.array_split(X, k)), list(np.array_split(y, k))]


@st.composite
def _split_inputs(draw):
    k = draw(st.integers(1, 4))
    n = draw(st.integers(k, 11))
    d = draw(st.integers(1, 3))
    X = np.arange(n * d, dtype=np.float32).reshape(n, d) * draw(st.sampled_from([1.0, -0.5]))
    return X, np.arange(n) % 3, k


@st.composite
def _split_edges(draw):
    """Batches smaller than the device count (n = 0 included) and n = k."""
    k = draw(st.integers(1, 4))
    n = draw(st.integers(0, k))
    return np.ones((n, 2), np.float32), np.zeros(n, np.int64), k


def same_device(b, k):
    """The backend's device k times (a valid device list of length k in every framework)."""
    return [b.device] * k


def _split_call(b, X, y, k):
    X_shards, y_shards = b.d2l.split_batch(b.tensor(X), b.labels(y), same_device(b, k))
    return [[b.numpy(x) for x in X_shards], [b.numpy(t) for t in y_shards]]


def missing_device(b):
    """A device no framework has here: GPU 99."""
    if b.name == "mxnet":
        return b.fw.npx.gpu(99)
    if b.name == "torch":
        return b.fw.device("cuda", 99)
    return "/GPU:99"


def _split_args(devices, n=4):
    return lambda b: (b.tensor(np.ones((n, 2), "f")), b.labels(np.zeros(n)), devices(b))


# ------------------------------------------------------------------- 12.6 resnet18

RESNET18 = ((("conv", 64, 3, 1, 1), ("bn",), ("relu",))
            + tuple(("residual", c, first, s) for c, first, s in (
                (64, False, 1), (64, False, 1), (128, True, 2), (128, False, 1),
                (256, True, 2), (256, False, 1), (512, True, 2), (512, False, 1)))
            + (("gap",), ("dense", 10)))


@functools.lru_cache(maxsize=1)
def resnet18_params(in_channels=3, seed=0):
    """Canonical ResNet-18 parameters (10 classes): He-scaled convolutions so activations
    keep their size through the 18 layers, perturbed batch-norm statistics. Cached (11
    million numbers): callers must not modify the arrays."""
    params = canonical.init_model(RESNET18, (in_channels, 8, 8), seed)
    for key, value in params.items():
        if key.endswith(".weight"):
            fan_in = int(np.prod(value.shape[1:])) if value.ndim == 4 else value.shape[0]
            params[key] = (value / 0.3 * np.sqrt(1.0 / fan_in)).astype(np.float32)
    return params


def build_resnet18(b, params, in_channels=3, size=8):
    """The backend's resnet18(10) with canonical `params` loaded."""
    if b.name == "torch":
        net = b.d2l.resnet18(10, in_channels).to(b.device)
    elif b.name == "mxnet":
        net = b.d2l.resnet18(10)
        net.initialize(ctx=b.device)
    else:
        with b.fw.device(b.device):
            net = b.d2l.resnet18(10)
            net.build((None, size, size, in_channels))
    b.d2l.import_params(net, params)
    return net


def _resnet_inputs(seed=1):
    return np.random.default_rng(seed).normal(size=(3, 3, 8, 8)).astype(np.float32)


def _resnet18_probe(b):
    params = resnet18_params()
    net = build_resnet18(b, params)
    exported = b.d2l.export_params(net)
    roundtrip = sorted(exported) == sorted(params) and all(
        np.array_equal(exported[k], params[k]) for k in params)
    return [roundtrip, canonical.forward(b, net, _resnet_inputs(), False),
            canonical.forward(b, net, _resnet_inputs(), True)]


@functools.lru_cache(maxsize=1)
def _resnet18_expect():
    params = resnet18_params()
    return [True, reference.run(RESNET18, params, _resnet_inputs(), False),
            reference.run(RESNET18, params, _resnet_inputs(), True)]


# ---------------------------------------------------------- 12.6 evaluate_accuracy_gpus


def _eval_data(seed=8):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(27, 1, 2, 3)).astype(np.float32), rng.integers(0, 3, 27)


def _evaluate_gpus_probe(b):
    """A canonical softmax regression (MXNet: on two CPU contexts, every batch split over
    them), batches of 8 (the last 3: uneven shards)."""
    X, y = _eval_data()
    net = canonical.dense_stack(b, canonical.init_params([6, 3], 9), (1, 2, 3))
    if b.name == "mxnet":
        net.collect_params().reset_ctx([b.fw.npx.cpu(0), b.fw.npx.cpu(1)])
    it = b.d2l.load_array((b.images(X), b.labels(y)), 8, is_train=False)
    return b.d2l.evaluate_accuracy_gpus(net, it)


def _evaluate_gpus_expect():
    X, y = _eval_data()
    logits, _ = reference.forward(canonical.init_params([6, 3], 9), X)
    return reference.accuracy(logits, y) / len(y)


ENTRIES = [
    Entry("split_batch", "12.5", "split_batch(X, y, devices)",
          "X and y split along axis 0 into one shard per device, in order, shard i on "
          "devices[i]: numpy.array_split sizes (n // k or n // k + 1, larger first; MXNet "
          "split_and_load with even_split=False, PyTorch tensor_split, TensorFlow tf.split). "
          "A batch with fewer examples than devices raises ValueError naming X (the book "
          "asserted equal lengths only and MXNet failed inside split_and_load); an empty "
          "device list or a device the framework does not have raises ValueError naming "
          "devices.",
          reference=split_batch_reference, inputs=_split_inputs, edges=_split_edges,
          call=_split_call, tol=Tol(0.0, 0.0),
          rejects=(Reject("empty device list", _split_args(lambda b: []), match="devices"),
                   Reject("a device the framework does not have",
                          _split_args(lambda b: [missing_device(b)]), match="devices"),
                   Reject("fewer examples than devices",
                          _split_args(lambda b: same_device(b, 3), n=2), match="X"))),
    Entry("resnet18", "12.6",
          "M: resnet18(num_classes) | P: resnet18(num_classes, in_channels=1) | "
          "T: resnet18(num_classes)",
          "3x3 conv (64, stride 1, pad 1 on every side) + BN + ReLU, no max-pool; four "
          "stages of two Residual blocks (64, 128, 256, 512 channels, stages 2-4 start with "
          "a strided 1x1-shortcut block); global average pooling; dense to num_classes. "
          "Canonical parameters (BN running statistics included) export and import exactly; "
          "from the same weights the outputs match NumPy in inference and training mode. "
          "TensorFlow (not in the book) pads explicitly and uses BN epsilon 1e-5, momentum "
          "0.9, so the three compute the same function.",
          probe=_resnet18_probe, expect=_resnet18_expect, tol=Tol(1e-3, 1e-4)),
    Entry("evaluate_accuracy_gpus", "12.6",
          "evaluate_accuracy_gpus(net, data_iter, split_f=d2l.split_batch)",
          "Accuracy over the iterator, data parallel: MXNet splits every batch with split_f "
          "over the contexts of the net's first parameter; PyTorch over the processes of a "
          "process group (DataParallel nets scatter the batch themselves); TensorFlow over "
          "the devices of the MirroredStrategy that built the net. On one device: the plain "
          "accuracy. An iterator with no examples raises ValueError naming data_iter. "
          "(MXNet only in the book.)",
          probe=_evaluate_gpus_probe, expect=_evaluate_gpus_expect, tol=Tol(0.0, 0.0),
          rejects=(Reject("empty iterator", lambda b: (
              canonical.dense_stack(b, canonical.init_params([2, 2], 0)), []),
              match="data_iter"),)),
]


# ------------------------------------------------- shared by 13.1 and the multi-device tests


def cifar_like(n, seed, num_classes=4, size=32):
    """n CIFAR-shaped NCHW float32 images (3, size, size) and int labels: sine gratings whose
    orientation is the class, with random frequency, phase and colour plus pixel noise (a
    conv net learns them; pixel averages say nothing about the class)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, num_classes, n)
    angle = y * np.pi / num_classes + rng.normal(0, 0.05, n)
    i, j = np.mgrid[0:size, 0:size]
    coord = np.cos(angle)[:, None, None] * i + np.sin(angle)[:, None, None] * j
    freq, phase = rng.uniform(0.5, 1.0, n), rng.uniform(0, 2 * np.pi, n)
    pattern = np.sin(freq[:, None, None] * coord + phase[:, None, None])
    colour = rng.uniform(0.3, 1.0, (n, 3))
    X = 0.5 + 0.4 * colour[:, :, None, None] * pattern[:, None]
    X += rng.normal(0, 0.1, X.shape)
    return X.astype(np.float32), y


def devices_of(b, k):
    """k distinct devices: CPU contexts 0..k-1 (MXNet), logical CPUs '/CPU:i' (TensorFlow),
    the CPU once (PyTorch: one device per process)."""
    if b.name == "mxnet":
        return [b.fw.npx.cpu(i) for i in range(k)]
    if b.name == "torch":
        return [b.fw.device("cpu")]
    return [f"/CPU:{i}" for i in range(k)]


def _framework_parts(b, lr, batch_size):
    """The book's loss (per example) and the framework's SGD, set so that every framework
    takes the step lr * (gradient of the batch-mean loss): MXNet's trainer.step(batch_size)
    divides the summed gradient by the batch size itself; PyTorch and TensorFlow follow the
    summed loss, so their rate is lr / batch_size (all batches full)."""
    if b.name == "mxnet":
        from mxnet import gluon

        return gluon.loss.SoftmaxCrossEntropyLoss(), lambda net: gluon.Trainer(
            net.collect_params(), "sgd", {"learning_rate": lr})
    if b.name == "torch":
        import torch

        return torch.nn.CrossEntropyLoss(reduction="none"), lambda net: torch.optim.SGD(
            net.parameters(), lr=lr / batch_size)
    from tensorflow import keras

    return (keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            lambda net: keras.optimizers.SGD(learning_rate=lr / batch_size))


def history_from_plot(fig_num, num_epochs):
    """Per epoch (train loss, train acc, test acc) read back from train_ch13's figure."""
    import matplotlib.pyplot as plt

    lines = plt.figure(fig_num).axes[0].get_lines()
    history = []
    for epoch in range(1, num_epochs + 1):
        at_end = [np.asarray(line.get_ydata())[np.asarray(line.get_xdata()) == epoch]
                  for line in lines]
        history.append([float(values[-1]) for values in at_end])
    plt.close(fig_num)
    return history


def run_train_ch13(b, layers, params, image_shape, train, test, lr, num_epochs, batch_size,
                   devices):
    """train_ch13 from canonical weights on unshuffled batches over `devices`; returns the
    per-epoch history read back from its plot, what it printed, and the final canonical
    parameters."""
    import matplotlib.pyplot as plt

    d2l = b.d2l
    train_iter = d2l.load_array((b.images(train[0]), b.labels(train[1])), batch_size, False)
    test_iter = d2l.load_array((b.images(test[0]), b.labels(test[1])), batch_size, False)
    loss, make_trainer = _framework_parts(b, lr, batch_size)
    before, printed = set(plt.get_fignums()), io.StringIO()
    with contextlib.redirect_stdout(printed):
        if b.name == "tensorflow":
            net = d2l.train_ch13(lambda: canonical.build(b, layers, params, image_shape),
                                 train_iter, test_iter, loss, make_trainer(None), num_epochs,
                                 devices)
        else:
            net = canonical.build(b, layers, params, image_shape)
            if b.name == "mxnet":
                net.collect_params().reset_ctx(devices)
            d2l.train_ch13(net, train_iter, test_iter, loss, make_trainer(net), num_epochs,
                           devices)
    (fig_num,) = set(plt.get_fignums()) - before
    return (history_from_plot(fig_num, num_epochs), printed.getvalue(),
            d2l.export_params(net))


def ddp_train_ch13(rank, world_size, layers, params, image_shape, train, test, lr,
                   num_epochs, batch_size):
    """`run_train_ch13` on PyTorch in one process of a process group (for
    `run_data_parallel`): its history, final parameters, and the test accuracy of the final
    weights by `evaluate_accuracy_gpus` over the group."""
    from .backends import Backend

    b = Backend("torch")
    history, _, final = run_train_ch13(b, layers, params, image_shape, train, test, lr,
                                       num_epochs, batch_size, devices_of(b, 1))
    net = canonical.build(b, layers, final, image_shape)
    test_iter = b.d2l.load_array((b.images(test[0]), b.labels(test[1])), batch_size, False)
    return history, final, b.d2l.evaluate_accuracy_gpus(net, test_iter)
