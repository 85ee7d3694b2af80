"""Convolution details the spec's probes rely on."""

import numpy as np
import pytest

from spec import canonical, modern_cnns, reference, support
from spec.convolutional_neural_networks import run_train_ch6


def test_keras_same_padding_with_stride_2_is_asymmetric(backend):
    """Why the TensorFlow Residual pads explicitly: Keras 'same' with stride 2 pads only the
    bottom/right, so it disagrees with the symmetric padding of the book's MXNet/PyTorch
    blocks; ZeroPadding2D(1) + 'valid' agrees."""
    if backend.name != "tensorflow":
        pytest.skip("a Keras layout fact")
    from tensorflow import keras

    rng = np.random.default_rng(0)
    X = rng.normal(size=(1, 2, 6, 6)).astype(np.float32)
    W = rng.normal(size=(3, 2, 3, 3)).astype(np.float32)
    expected = reference.conv2d(X, W, np.zeros(3), stride=2, padding=1)
    same = keras.layers.Conv2D(3, 3, strides=2, padding="same", use_bias=False)
    valid = keras.layers.Conv2D(3, 3, strides=2, use_bias=False)
    for layer in (same, valid):
        layer.build((None, 6, 6, 2))
        layer.kernel.assign(W.transpose(2, 3, 1, 0))
    out_same = backend.from_images(same(backend.images(X)))
    padded = keras.layers.ZeroPadding2D(1)(backend.images(X))
    out_valid = backend.from_images(valid(padded))
    assert out_same.shape == expected.shape
    assert not np.allclose(out_same, expected, atol=1e-3)
    np.testing.assert_allclose(out_valid, expected, rtol=1e-5, atol=1e-5)


def test_residual_round_trips_canonical_params(backend):
    params = modern_cnns.residual_params(3, 6, True)
    net = modern_cnns.build_residual(backend, 3, 6, True, 2, params)
    canonical.forward(backend, net, np.zeros((1, 3, 4, 4), np.float32), False)
    exported = backend.d2l.export_params(net)
    assert exported.keys() == params.keys()
    for k in params:
        np.testing.assert_array_equal(exported[k], params[k])


MODELS = {"lenet": (canonical.LENET, (1, 28, 28), (False, True)),
          "bn-lenet": (canonical.BN_LENET, (1, 28, 28), (False, True)),
          "small-resnet": (canonical.SMALL_RESNET, (1, 12, 12), (False, True)),
          "dropout-mlp": (canonical.DROPOUT_MLP, (2, 3, 3), (False,))}


def _outputs(backend, name):
    """(params, params exported right after import, outputs per mode, NumPy's outputs)."""
    layers, image_shape, modes = MODELS[name]
    params = canonical.init_model(layers, image_shape, seed=2)
    net = canonical.build(backend, layers, params, image_shape)
    exported = backend.d2l.export_params(net)
    X = np.random.default_rng(3).normal(size=(4, *image_shape)).astype(np.float32)
    return params, exported, [canonical.forward(backend, net, X, mode) for mode in modes], [
        reference.run(layers, params, X, mode) for mode in modes]


@pytest.mark.parametrize("name", MODELS)
def test_cnn_from_canonical_weights_matches_numpy(backend, name):
    """LeNet (6.6), batch-norm LeNet (7.5), a small ResNet of Residual blocks with max
    pooling, a grouped convolution and global average pooling, and an MLP with dropout: the
    same canonical weights give NumPy's outputs, in inference and (but with dropout) training
    mode; exporting gives the weights back."""
    params, exported, outputs, expected = _outputs(backend, name)
    for out, ref in zip(outputs, expected):
        np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)
    assert exported.keys() == params.keys()
    for k in params:
        np.testing.assert_allclose(exported[k], params[k], rtol=0, atol=0)


@pytest.mark.parametrize("name", MODELS)
def test_cnn_outputs_agree_across_frameworks(all_backends, name):
    results = {b.name: _outputs(b, name)[2] for b in all_backends}
    first, *others = all_backends
    for other in others:
        for a, c in zip(results[first.name], results[other.name]):
            np.testing.assert_allclose(a, c, rtol=1e-4, atol=1e-4,
                                       err_msg=f"{name}: {first.name} vs {other.name}")


def _fashion_arrays(n_train, n_test):
    (x, y), (tx, ty) = (support.synthetic_fashion_mnist(n_train, 0),
                        support.synthetic_fashion_mnist(n_test, 1))
    return ((x[:, None] / np.float32(255)).astype(np.float32), y.astype(np.int64)), (
        (tx[:, None] / np.float32(255)).astype(np.float32), ty.astype(np.int64))


def test_train_ch6_lenet_agrees_across_frameworks(all_backends):
    """LeNet (6.6) from the same canonical weights on the same batches: the per-epoch train
    loss, train accuracy and test accuracy of train_ch6 agree across frameworks."""
    train, test = _fashion_arrays(256, 128)
    params = canonical.init_model(canonical.LENET, (1, 28, 28), seed=0)
    histories = {b.name: run_train_ch6(b, canonical.LENET, params, (1, 28, 28), train, test,
                                       0.9, 2, 64)[0] for b in all_backends}
    first, *others = all_backends
    for other in others:
        np.testing.assert_allclose(histories[other.name], histories[first.name], rtol=1e-3,
                                   atol=1e-4, err_msg=f"{first.name} vs {other.name}")


def test_train_ch6_learns_fashion_mnist_format_data(backend):
    """Batch-norm LeNet (7.5) with the book's lr 1.0 on learnable Fashion-MNIST-format data
    served through load_data_fashion_mnist: well above chance after two epochs."""
    import io
    from contextlib import redirect_stdout

    d2l = backend.d2l
    params = canonical.init_model(canonical.BN_LENET, (1, 28, 28), seed=1)
    with support.fashion_mnist_files(n_train=1500, n_test=300):
        train_iter, test_iter = d2l.load_data_fashion_mnist(128)
        with redirect_stdout(io.StringIO()):
            if backend.name == "tensorflow":
                net = d2l.train_ch6(
                    lambda: canonical.build(backend, canonical.BN_LENET, params, (1, 28, 28)),
                    train_iter, test_iter, 2, 1.0, d2l.try_gpu())
            else:
                net = canonical.build(backend, canonical.BN_LENET, params, (1, 28, 28))
                d2l.train_ch6(net, train_iter, test_iter, 2, 1.0, d2l.try_gpu())
        assert d2l.evaluate_accuracy(net, test_iter) > 0.8
