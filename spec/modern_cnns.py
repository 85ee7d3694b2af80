"""Chapter 7, Modern Convolutional Neural Networks: the residual block of section 7.6."""

import numpy as np

from . import canonical, reference
from .entry import Entry, Reject, Tol

# (input channels, num_channels, use_1x1conv, strides, input height/width)
CONFIGS = ((3, 3, False, 1, 6), (3, 6, True, 2, 6), (2, 4, True, 1, 5), (2, 4, True, 2, 7))


def residual_params(in_channels, channels, use_1x1conv, seed=0):
    """Random canonical parameters of a Residual block (running statistics included)."""
    rng = np.random.default_rng(seed)

    def normal(*shape, scale=0.3):
        return rng.normal(0, scale, shape).astype(np.float32)

    def bn(k):
        return {f"{k}.gamma": 1 + normal(channels), f"{k}.beta": normal(channels),
                f"{k}.running_mean": normal(channels),
                f"{k}.running_var": rng.uniform(0.5, 2, channels).astype(np.float32)}

    params = {"0.weight": normal(channels, in_channels, 3, 3), "0.bias": normal(channels),
              **bn(1), "2.weight": normal(channels, channels, 3, 3),
              "2.bias": normal(channels), **bn(3)}
    if use_1x1conv:
        params.update({"4.weight": normal(channels, in_channels, 1, 1),
                       "4.bias": normal(channels)})
    return params


def build_residual(b, in_channels, channels, use_1x1conv, strides, params):
    """The backend's Residual with canonical `params` loaded (each framework's signature)."""
    if b.name == "torch":
        net = b.d2l.Residual(in_channels, channels, use_1x1conv, strides).to(b.device)
    elif b.name == "mxnet":
        net = b.d2l.Residual(channels, use_1x1conv, strides)
        net.initialize(ctx=b.device)
    else:
        with b.fw.device(b.device):
            net = b.d2l.Residual(channels, use_1x1conv, strides)
    b.d2l.import_params(net, params)
    return net


def _inputs(config, seed=1):
    in_channels, _, _, _, size = config
    return np.random.default_rng(seed).normal(size=(2, in_channels, size, size)).astype(
        np.float32)


def _residual_probe(b):
    outputs = []
    for config in CONFIGS:
        in_channels, channels, use_1x1conv, strides, _ = config
        params = residual_params(in_channels, channels, use_1x1conv)
        net = build_residual(b, in_channels, channels, use_1x1conv, strides, params)
        outputs += [canonical.forward(b, net, _inputs(config), False),
                    canonical.forward(b, net, _inputs(config), True)]
    return outputs


def _residual_expect():
    outputs = []
    for config in CONFIGS:
        in_channels, channels, use_1x1conv, strides, _ = config
        params = {k: v.astype(np.float64) for k, v in
                  residual_params(in_channels, channels, use_1x1conv).items()}
        outputs += [reference.residual(params, _inputs(config), strides, False),
                    reference.residual(params, _inputs(config), strides, True)]
    return outputs


def _residual_args(b, num_channels, strides):
    """Constructor arguments in the backend's signature (PyTorch also takes input_channels)."""
    head = (3,) if b.name == "torch" else ()
    return (*head, num_channels, False, strides)


ENTRIES = [
    Entry("Residual", "7.6",
          "M: Residual(num_channels, use_1x1conv=False, strides=1, **kwargs) | "
          "P: Residual(input_channels, num_channels, use_1x1conv=False, strides=1) | "
          "T: Residual(num_channels, use_1x1conv=False, strides=1)",
          "ReLU(BN(conv3x3(ReLU(BN(conv3x3(X, stride))))) + shortcut), shortcut X or a 1x1 "
          "conv with the stride; 3x3 convs pad 1 on every side (TensorFlow too: no 'same' "
          "padding), batch norm eps 1e-5. Checked from canonical weights against NumPy, in "
          "inference and training mode, with and without the 1x1 conv, strides 1 and 2, "
          "even and odd input sizes. A size that is not a positive int raises ValueError "
          "naming it; without use_1x1conv, a block that changes the channels or the size "
          "raises ValueError naming use_1x1conv on the forward pass (the sum would fail "
          "deep inside the framework).",
          probe=_residual_probe, expect=_residual_expect, tol=Tol(1e-4, 1e-4),
          rejects=(Reject("num_channels 0", lambda b: _residual_args(b, 0, 1),
                          match="num_channels"),
                   Reject("strides 1.5", lambda b: _residual_args(b, 3, 1.5), match="strides"))),
]
