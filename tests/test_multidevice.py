"""Data parallelism on the frameworks' own engines (sections 12.5, 12.6, 13.1): k = 2 devices
train exactly like one device with the same global batch, in all three frameworks, on this
CPU-only machine: two CPU contexts (MXNet), two logical CPU devices under a MirroredStrategy
(TensorFlow), two gloo processes under DistributedDataParallel (PyTorch). Also: train_ch13
learns CIFAR-shaped images well above chance, and the CUDA paths (marker `gpu`).

TensorFlow's logical devices must be configured before TensorFlow first uses a device: this
module asks for two when it is imported (collection comes before any test runs); where that
is too late, the TensorFlow check runs in a fresh interpreter.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from spec import backends, canonical
from spec.computational_performance import (
    cifar_like,
    ddp_train_ch13,
    devices_of,
    run_train_ch13,
)
from spec.entry import Tol, within

ACTIVE = os.environ.get("D2L_TEST_BACKENDS", ",".join(backends.installed())).split(",")

# A conv net without batch statistics: data parallelism gives it exactly the one-device
# gradients (batch norm would normalise each shard by its own statistics, as in the book).
CNN = (("conv", 4, 3, 1, 1), ("relu",), ("maxpool", 2, 2, 0), ("conv", 6, 3, 1, 1),
       ("relu",), ("gap",), ("dense", 4))
SHAPE = (3, 32, 32)
# Batches of 9 examples: shards of 5 and 4 on two devices.
RUN = dict(lr=0.5, num_epochs=2, batch_size=9)
# float32 sums over shards in another order: within 1e-4 relative.
TOL = Tol(1e-4, 1e-5)


def _logical_cpus(n):
    """Ask TensorFlow for n logical CPU devices; whether it has them now."""
    import tensorflow as tf

    try:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(n)])
    except RuntimeError:  # devices already initialized
        pass
    return len(tf.config.list_logical_devices("CPU")) >= n


if "tensorflow" in ACTIVE:  # conftest has imported the frameworks in their safe order
    _logical_cpus(2)


def _data():
    return cifar_like(45, 21), cifar_like(27, 22)


def _params():
    return canonical.init_model(CNN, SHAPE, 3)


def _run(b, k):
    history, printed, params = run_train_ch13(b, CNN, _params(), SHAPE, *_data(),
                                              devices=devices_of(b, k), **RUN)
    return history, printed, params


def _assert_same_run(one, two):
    (h1, p1), (h2, p2) = one, two
    assert within(h2, h1, TOL), (h1, h2)
    assert sorted(p1) == sorted(p2)
    assert within([p2[k] for k in sorted(p2)], [p1[k] for k in sorted(p1)], TOL)
    # Not a run that went nowhere: the weights moved.
    assert max(np.abs(p2[k] - _params()[k]).max() for k in p2) > 1e-2


TF_SCRIPT = """
import json, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import matplotlib
matplotlib.use("Agg")
from spec.backends import Backend
import tests.test_multidevice as t
b = Backend("tensorflow")
runs = []
for k in (1, 2):
    history, printed, params = t._run(b, k)
    runs.append([history, printed, {n: v.tolist() for n, v in params.items()}])
json.dump(runs, sys.stdout)
"""


def _tensorflow_runs(b):
    if len(b.fw.config.list_logical_devices("CPU")) >= 2:
        return [_run(b, 1), _run(b, 2)]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run([sys.executable, "-c", TF_SCRIPT], capture_output=True, text=True,
                          cwd=root, timeout=300, env={**os.environ,
                                                      "D2L_TEST_BACKENDS": "tensorflow"})
    assert done.returncode == 0, done.stderr[-3000:]
    return [(h, p, {n: np.array(v, np.float32) for n, v in params.items()})
            for h, p, params in json.loads(done.stdout)]


def _ddp_run(b, start_method):
    return b.d2l.run_data_parallel(ddp_train_ch13, 2, CNN, _params(), SHAPE, *_data(),
                                   RUN["lr"], RUN["num_epochs"], RUN["batch_size"],
                                   start_method=start_method)


def _assert_ddp_like_one(one, two):
    _assert_same_run(one[::2], two[:2])
    # evaluate_accuracy_gpus in the process group: each process predicts its shards.
    assert two[2] == pytest.approx(one[0][-1][2], abs=1e-9)


def test_two_devices_train_like_one(backend):
    """Same canonical weights, same global batches (of 9: shards of 5 and 4): the loss and
    accuracy trajectory and the final weights of k = 2 devices match one device. PyTorch's
    two gloo processes are forked here (a spawned interpreter re-imports PyTorch: see the
    slow test below)."""
    if backend.name == "torch":
        _assert_ddp_like_one(_run(backend, 1), _ddp_run(backend, "fork"))
        return
    runs = _tensorflow_runs(backend) if backend.name == "tensorflow" else [
        _run(backend, 1), _run(backend, 2)]
    (h1, printed1, p1), (h2, printed2, p2) = runs
    _assert_same_run((h1, p1), (h2, p2))
    assert printed2.endswith(f" examples/sec on {devices_of(backend, 2)}\n"), printed2


@pytest.mark.slow
def test_two_spawned_gloo_processes_train_like_one(backend):
    """run_data_parallel's default start: two freshly spawned interpreters."""
    if backend.name != "torch":
        pytest.skip("gloo processes are PyTorch's engine")
    _assert_ddp_like_one(_run(backend, 1), _ddp_run(backend, "spawn"))


def test_split_batch_places_shard_i_on_device_i(backend):
    if backend.name == "torch":
        pytest.skip("PyTorch has one CPU device; shard placement on CUDA: test_gpu_split")
    if backend.name == "tensorflow" and len(backend.fw.config.list_logical_devices()) < 2:
        pytest.skip("TensorFlow's devices were initialized before this module asked for two")
    devices = devices_of(backend, 2)
    X_shards, _ = backend.d2l.split_batch(backend.tensor(np.ones((3, 2), "f")),
                                          backend.labels(np.zeros(3)), devices)
    where = [str(x.ctx) if backend.name == "mxnet" else x.device for x in X_shards]
    assert [w.endswith(str(i)) or w.endswith(f"({i})") for i, w in enumerate(where)] == [
        True, True], where


LEARNER = (("conv", 8, 5, 1, 2), ("bn",), ("relu",), ("maxpool", 2, 2, 0),
           ("conv", 16, 3, 1, 1), ("bn",), ("relu",), ("gap",), ("dense", 4))


def test_train_ch13_learns_cifar_shaped_images(backend):
    """Oriented gratings of four classes (random frequency, phase, colour, noise): a small
    conv net with batch norm reaches a test accuracy far above chance (0.25) in 3 epochs,
    and the printed lines have the book's format."""
    train, test = cifar_like(256, 31), cifar_like(96, 32)
    params = canonical.init_model(LEARNER, SHAPE, 4)
    history, printed, _ = run_train_ch13(backend, LEARNER, params, SHAPE, train, test, 0.2, 3,
                                         32, devices_of(backend, 1))
    assert history[-1][2] > 0.7, history
    assert history[-1][0] < history[0][0], history
    lines = printed.splitlines()
    assert lines[0].startswith("loss ") and ", train acc " in lines[0], printed
    assert lines[1].endswith(f"examples/sec on {devices_of(backend, 1)}"), printed


def test_several_cpus_need_the_engines_they_name(backend):
    """A device listed twice (every framework); PyTorch: several CPU devices outside a
    process group (DataParallel is CUDA only); TensorFlow: a model built outside the devices'
    MirroredStrategy — each a ValueError naming the argument."""
    net = canonical.build(backend, CNN, _params(), SHAPE)
    twice = [backend.device] * 2
    with pytest.raises(ValueError, match="devices must be distinct"):
        backend.d2l.train_ch13(net, [], [], None, None, 1, twice)
    if backend.name == "torch":
        with pytest.raises(ValueError, match="devices"):
            backend.d2l.train_ch13(net, [], [], None, None, 1, [backend.device,
                                                                 backend.fw.device("cpu", 1)])
    if backend.name == "tensorflow" and len(backend.fw.config.list_logical_devices("CPU")) > 1:
        with pytest.raises(ValueError, match="net must be built"):
            backend.d2l.train_ch13(net, [], [], None, None, 1, devices_of(backend, 2))
        with pytest.raises(ValueError, match="net must be built"):
            backend.d2l.train_batch_ch13(net, None, None, None, None, devices_of(backend, 2))


# ------------------------------------------------------------------ CUDA paths


@pytest.mark.gpu
def test_gpu_train_ch13_follows_cpu(gpu_backend):
    """train_ch13 on the first GPU from canonical weights follows the CPU run."""
    from spec.backends import Backend

    cpu = _run(Backend(gpu_backend.name), 1)
    devices = [gpu_backend.d2l.try_gpu()] if gpu_backend.name != "tensorflow" else ["/GPU:0"]
    history, printed, params = run_train_ch13(gpu_backend, CNN, _params(), SHAPE, *_data(),
                                              devices=devices, **RUN)
    _assert_same_run((cpu[0], cpu[2]), (history, params))
    assert "cuda" in printed or "gpu" in printed.lower(), printed


@pytest.mark.gpu
def test_gpu_data_parallel_over_two_gpus(gpu_backend):
    """nn.DataParallel (PyTorch), two GPU contexts (MXNet), MirroredStrategy (TensorFlow)
    over two GPUs train like one GPU."""
    if gpu_backend.num_gpus() < 2:
        pytest.skip("needs two GPUs")
    d2l = gpu_backend.d2l
    runs = []
    for k in (1, 2):
        devices = (d2l.try_all_gpus()[:k] if gpu_backend.name != "tensorflow"
                   else [f"/GPU:{i}" for i in range(k)])
        history, _, params = run_train_ch13(gpu_backend, CNN, _params(), SHAPE, *_data(),
                                            devices=devices, **RUN)
        runs.append((history, params))
    _assert_same_run(*runs)


@pytest.mark.gpu
def test_gpu_split(gpu_backend):
    """split_batch over GPU devices puts every shard on its device, in order."""
    devices = [gpu_backend.d2l.try_gpu()] * 2
    X_shards, y_shards = gpu_backend.d2l.split_batch(
        gpu_backend.tensor(np.arange(10, dtype="f").reshape(5, 2)),
        gpu_backend.labels(np.arange(5)), devices)
    assert [gpu_backend.numpy(y).tolist() for y in y_shards] == [[0, 1, 2], [3, 4]]
    for x in X_shards:
        where = str(getattr(x, "device", None) or x.ctx).lower()
        assert "gpu" in where or "cuda" in where, where
