"""Chapter 17, Generative Adversarial Networks: `update_D`, `update_G` (17.1) and the
`DATA_HUB['pokemon']` entry (17.2).

The book's 17.1 networks from canonical weights: generator Dense(2) on 2-D noise,
discriminator Dense(5, tanh) -> Dense(3, tanh) -> Dense(1) (logits), with the book's losses
(M SigmoidBCELoss per example, P BCEWithLogitsLoss(reduction='sum'), T Keras
BinaryCrossentropy(from_logits=True), a batch mean the saved code multiplies by B). One SGD
step each is checked against NumPy backpropagation. Gluon's `trainer.step(B)` averages the
gradient of the per-example loss where PyTorch and Keras differentiate the batch sum: the
probe gives MXNet a learning rate B times larger, so the three take the same step
(tests/test_gan.py shows the difference).
"""

import io
import zipfile
from contextlib import redirect_stdout

import numpy as np

from d2l.common import data_hub

from . import support
from .entry import EXACT, Entry, Tol

B, LR_D, LR_G = 8, 0.05, 0.005
A_TRUE, B_TRUE = np.array([[1, 2], [-0.1, 0.5]]), np.array([1, 2])


def gan_params(seed=17):
    """Canonical weights of the generator (layer 0) and the discriminator (layers 0-2)."""
    rng = np.random.default_rng(seed)
    normal = lambda *shape: rng.normal(0, 0.5, shape).astype(np.float32)  # noqa: E731
    G = {"0.weight": normal(2, 2), "0.bias": normal(2)}
    D = {"0.weight": normal(2, 5), "0.bias": normal(5), "1.weight": normal(5, 3),
         "1.bias": normal(3), "2.weight": normal(3, 1), "2.bias": normal(1)}
    return G, D


def book_data(n, seed=3):
    """The book's real data: X ~ N(0, 1) (n, 2) mapped by A and b, float32."""
    rng = np.random.default_rng(seed)
    return (rng.normal(0, 1, (n, 2)) @ A_TRUE + B_TRUE).astype(np.float32)


def noise(n, seed=5):
    return np.random.default_rng(seed).normal(0, 1, (n, 2)).astype(np.float32)


# ------------------------------------------------------------------ NumPy reference


def _bce(z, t):
    """Binary cross-entropy of logits z with targets t, per element (stable)."""
    return np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _d_forward(D, X):
    h1 = np.tanh(X @ D["0.weight"] + D["0.bias"])
    h2 = np.tanh(h1 @ D["1.weight"] + D["1.bias"])
    return (h2 @ D["2.weight"] + D["2.bias"])[:, 0], (X, h1, h2)


def _d_backward(D, cache, dz):
    """Gradients of Σ dz·z w.r.t. D's parameters and its input."""
    X, h1, h2 = cache
    dz = dz[:, None]
    grads = {"2.weight": h2.T @ dz, "2.bias": dz.sum(0)}
    d2 = dz @ D["2.weight"].T * (1 - h2 ** 2)
    grads.update({"1.weight": h1.T @ d2, "1.bias": d2.sum(0)})
    d1 = d2 @ D["1.weight"].T * (1 - h1 ** 2)
    grads.update({"0.weight": X.T @ d1, "0.bias": d1.sum(0)})
    return grads, d1 @ D["0.weight"].T


def gan_step_reference(G, D, X, Z, lr_D=LR_D, lr_G=LR_G):
    """One `update_D` then one `update_G` with SGD on the summed losses: returns
    [loss_D, D after update_D, loss_G, G after update_G] (float64)."""
    G = {k: v.astype(np.float64) for k, v in G.items()}
    D = {k: v.astype(np.float64) for k, v in D.items()}
    fake = Z @ G["0.weight"] + G["0.bias"]
    z_real, c_real = _d_forward(D, X)
    z_fake, c_fake = _d_forward(D, fake)
    loss_D = float(np.sum((_bce(z_real, 1) + _bce(z_fake, 0)) / 2))
    g_real, _ = _d_backward(D, c_real, (_sigmoid(z_real) - 1) / 2)
    g_fake, _ = _d_backward(D, c_fake, _sigmoid(z_fake) / 2)
    D = {k: D[k] - lr_D * (g_real[k] + g_fake[k]) for k in D}
    z, cache = _d_forward(D, Z @ G["0.weight"] + G["0.bias"])
    loss_G = float(np.sum(_bce(z, 1)))
    _, d_fake = _d_backward(D, cache, _sigmoid(z) - 1)
    G = {"0.weight": G["0.weight"] - lr_G * Z.T @ d_fake,
         "0.bias": G["0.bias"] - lr_G * d_fake.sum(0)}
    return [loss_D, D, loss_G, G]


# ------------------------------------------------------------------ framework side


def build_gan(b, G, D):
    """(net_G, net_D) of the book's 17.1, loaded with canonical weights."""
    if b.name == "mxnet":
        from mxnet.gluon import nn

        net_G, net_D = nn.Sequential(), nn.Sequential()
        net_G.add(nn.Dense(2))
        net_D.add(nn.Dense(5, activation="tanh"), nn.Dense(3, activation="tanh"), nn.Dense(1))
        net_G.initialize()
        net_D.initialize()
    elif b.name == "torch":
        from torch import nn

        net_G = nn.Sequential(nn.Linear(2, 2))
        net_D = nn.Sequential(nn.Linear(2, 5), nn.Tanh(), nn.Linear(5, 3), nn.Tanh(),
                              nn.Linear(3, 1))
    else:
        from tensorflow import keras

        net_G = keras.Sequential([keras.layers.Dense(2)])
        net_D = keras.Sequential([keras.layers.Dense(5, activation="tanh"),
                                  keras.layers.Dense(3, activation="tanh"),
                                  keras.layers.Dense(1)])
        net_G.build((None, 2))
        net_D.build((None, 2))
    b.d2l.import_params(net_G, G)
    b.d2l.import_params(net_D, D)
    return net_G, net_D


def gan_loss(b):
    """The book's loss: M SigmoidBCELoss, P BCEWithLogitsLoss(reduction='sum'), T Keras
    BinaryCrossentropy(from_logits=True)."""
    if b.name == "mxnet":
        return b.fw.gluon.loss.SigmoidBCELoss()
    if b.name == "torch":
        return b.fw.nn.BCEWithLogitsLoss(reduction="sum")
    from tensorflow import keras

    return keras.losses.BinaryCrossentropy(from_logits=True)


def optimizer(b, net, name, lr):
    """The framework's optimizer `name` ('sgd' or 'adam') over `net`'s parameters."""
    if b.name == "mxnet":
        return b.fw.gluon.Trainer(net.collect_params(), name, {"learning_rate": lr})
    if b.name == "torch":
        cls = b.fw.optim.SGD if name == "sgd" else b.fw.optim.Adam
        return cls(net.parameters(), lr=lr)
    from tensorflow import keras

    cls = keras.optimizers.SGD if name == "sgd" else keras.optimizers.Adam
    return cls(learning_rate=lr)


def gan_step(b, mean_scale=True):
    """One update_D and one update_G from canonical weights with SGD; MXNet's learning rates
    are multiplied by B when `mean_scale` (see the module docstring)."""
    G, D = gan_params()
    net_G, net_D = build_gan(b, G, D)
    scale = B if b.name == "mxnet" and mean_scale else 1
    loss = gan_loss(b)
    trainer_D = optimizer(b, net_D, "sgd", LR_D * scale)
    trainer_G = optimizer(b, net_G, "sgd", LR_G * scale)
    X, Z = b.tensor(book_data(B)), b.tensor(noise(B))
    loss_D = float(b.numpy(b.d2l.update_D(X, Z, net_D, net_G, loss, trainer_D)))
    D_after = b.d2l.export_params(net_D)
    loss_G = float(b.numpy(b.d2l.update_G(Z, net_D, net_G, loss, trainer_G)))
    return [loss_D, D_after, loss_G, b.d2l.export_params(net_G),
            b.d2l.export_params(net_D)]


def _step_expect():
    G, D = gan_params()
    loss_D, D_after, loss_G, G_after = gan_step_reference(G, D, book_data(B), noise(B))
    return [loss_D, D_after, loss_G, G_after, D_after]


def gan_moments(b, net_G, Z):
    out = b.numpy(net_G(b.tensor(Z)))
    return out.mean(0), out.std(0)


def _training_probe(b, epochs=1, n=240):
    """The book's GAN loop (Adam, lr_D 0.05, lr_G 0.005, batch 8) for one epoch of 240 of its
    synthetic data: the generator's output mean and spread move toward the data's."""
    data = book_data(n)
    G, D = gan_params()
    net_G, net_D = build_gan(b, G, D)
    loss = gan_loss(b)
    trainer_D, trainer_G = optimizer(b, net_D, "adam", LR_D), optimizer(b, net_G, "adam", LR_G)
    Z_all = noise(n * epochs, seed=9)
    Z_eval = noise(500, seed=10)
    target_mean, target_std = data.mean(0), data.std(0)
    mean0, std0 = gan_moments(b, net_G, Z_eval)
    for epoch in range(epochs):
        for i in range(0, n, B):
            X = b.tensor(data[i:i + B])
            Z = b.tensor(Z_all[epoch * n + i: epoch * n + i + B])
            b.d2l.update_D(X, Z, net_D, net_G, loss, trainer_D)
            b.d2l.update_G(Z, net_D, net_G, loss, trainer_G)
    mean1, std1 = gan_moments(b, net_G, Z_eval)
    closer_mean = np.linalg.norm(mean1 - target_mean) < 0.97 * np.linalg.norm(mean0 - target_mean)
    closer_std = np.abs(std1 - target_std).sum() < np.abs(std0 - target_std).sum()
    return [bool(closer_mean), bool(closer_std)]


def _pokemon_probe(b):
    """The registered entry, and `download_extract('pokemon')` on an archive laid out as the
    real one (pokemon/<class>/<n>.png) served over loopback."""
    registered = list(b.d2l.DATA_HUB["pokemon"])
    with support.data_sandbox() as (cache, www, _url):
        with zipfile.ZipFile(www / "pokemon.zip", "w") as z:
            for cls in range(3):
                for k in range(2):
                    z.writestr(f"pokemon/{cls}/{k}.png", bytes([137, 80, 78, 71, cls, k]))
        entry = (registered[0], support.sha1(www / "pokemon.zip"))
        with support.patched(b.d2l.DATA_HUB, pokemon=entry), redirect_stdout(io.StringIO()):
            folder = b.d2l.download_extract("pokemon")
        import os

        return [registered, os.path.relpath(folder, cache), sorted(os.listdir(folder))]


ENTRIES = [
    Entry("update_D", "17.1",
          "M/P: update_D(X, Z, net_D, net_G, loss, trainer_D) | T: (..., optimizer_D)",
          "One discriminator step: real labels 1 for X, 0 for net_G(Z) (detached; T: computed "
          "outside the tape); loss (loss(D(X), 1) + loss(D(fake), 0)) / 2, labels shaped as "
          "D's output (T: logits flattened to (B,) — the book squeezes); updates D only. "
          "Returns the loss summed over the batch: M a float, P/T a 0-d tensor. M steps with "
          "trainer_D.step(B) (gradient of the batch mean), P/T differentiate the sum.",
          probe=lambda b: gan_step(b)[:2], expect=lambda: _step_expect()[:2],
          tol=Tol(1e-4, 1e-5)),
    Entry("update_G", "17.1",
          "M/P: update_G(Z, net_D, net_G, loss, trainer_G) | T: (..., optimizer_G)",
          "One generator step after update_D: target 1 for D(net_G(Z)) recomputed on fresh "
          "fakes; updates G only (D's weights unchanged; in M/P gradients also reach D's "
          "parameters — Keep). Returns the summed loss (M float, P/T 0-d).",
          probe=gan_step, expect=_step_expect, tol=Tol(1e-4, 1e-5)),
    Entry("update_G (book GAN)", "17.1",
          "M/P: update_G(Z, net_D, net_G, loss, trainer_G) | T: (..., optimizer_G)",
          "One epoch of the book's GAN on 240 examples of its synthetic Gaussian data "
          "(update_D then update_G per batch of 8, Adam, lr_D 0.05, lr_G 0.005) moves the "
          "generator's output mean (by 3 % or more) and spread toward the data's.",
          probe=_training_probe, expect=lambda: [True, True], tol=EXACT),
    Entry("DATA_HUB['pokemon']", "17.2", "",
          "pokemon.zip under DATA_URL, sha1 c065c0e2...; extracts to pokemon/<class>/*.png.",
          probe=_pokemon_probe,
          expect=lambda: [[data_hub.DATA_URL + "pokemon.zip",
                           "c065c0e2593b8b161a2d7873e42418bf6a21106c"], "pokemon",
                          ["0", "1", "2"]], tol=EXACT),
]
