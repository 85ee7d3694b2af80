"""The spec's checks on the GPU: the same entries, with every tensor and model on the first
GPU of each framework that sees one, must still match the NumPy reference (and so the CPU).

Marker `gpu`: skipped where no framework sees a GPU. TF32 is switched off so float32 math
is float32 math.
"""

import numpy as np
import pytest

from spec import ENTRIES
from spec.entry import check_probe, check_reference

pytestmark = pytest.mark.gpu

NUMERIC_ON_GPU = [e for e in ENTRIES if e.reference is not None and e.name not in (
    "Timer", "get_fashion_mnist_labels")]
PROBES_ON_GPU = [e for e in ENTRIES if e.probe is not None and e.expect is not None and (
    e.name.startswith("train_epoch_ch3") or e.name in (
        "evaluate_accuracy", "evaluate_loss", "numpy", "to", "plot", "show_images",
        "Animator", "int32", "normal", "rand", "try_gpu", "try_all_gpus", "corr2d (autograd)",
        "evaluate_accuracy_gpu", "Residual", "train_ch6", "TrainCallback",
        "train_recsys_rating", "evaluate_ranking", "train_ranking"))]


@pytest.fixture(autouse=True)
def _no_tf32(gpu_backend):
    if gpu_backend.name == "torch":
        torch = gpu_backend.fw
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    elif gpu_backend.name == "tensorflow":
        gpu_backend.fw.config.experimental.enable_tensor_float_32_execution(False)


@pytest.mark.parametrize("entry", NUMERIC_ON_GPU, ids=[e.name for e in NUMERIC_ON_GPU])
def test_gpu_matches_numpy_reference(entry, gpu_backend):
    check_reference(entry, gpu_backend)


@pytest.mark.parametrize("entry", PROBES_ON_GPU, ids=[e.name for e in PROBES_ON_GPU])
def test_gpu_probe_matches_spec(entry, gpu_backend):
    check_probe(entry, gpu_backend)


def test_tensors_really_live_on_the_gpu(gpu_backend):
    t = gpu_backend.tensor(np.ones(3, np.float32))
    where = str(getattr(t, "device", None) or t.context).lower()
    assert "gpu" in where or "cuda" in where, where


def test_train_ch6_lenet_on_gpu_matches_cpu(gpu_backend):
    """LeNet trained by train_ch6 on the GPU follows the CPU run (same canonical weights,
    same batches) and reports the GPU as its device."""
    from spec import backends, canonical, support
    from spec.convolutional_neural_networks import run_train_ch6

    (x, y), (tx, ty) = (support.synthetic_fashion_mnist(512, 0),
                        support.synthetic_fashion_mnist(256, 1))
    train = ((x[:, None] / np.float32(255)).astype(np.float32), y)
    test = ((tx[:, None] / np.float32(255)).astype(np.float32), ty)
    params = canonical.init_model(canonical.LENET, (1, 28, 28), seed=0)
    cpu = backends.Backend(gpu_backend.name)
    on_cpu, _ = run_train_ch6(cpu, canonical.LENET, params, (1, 28, 28), train, test, 0.9, 2,
                              64)
    on_gpu, printed = run_train_ch6(gpu_backend, canonical.LENET, params, (1, 28, 28), train,
                                    test, 0.9, 2, 64)
    np.testing.assert_allclose(on_gpu, on_cpu, rtol=1e-4, atol=1e-5)
    assert "examples/sec on" in printed and ("cuda" in printed or "gpu" in printed.lower())
