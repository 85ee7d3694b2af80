"""One LeNet epoch of `train_ch6` on 60000 Fashion-MNIST-shaped images (batch 256, lr 0.9)
per framework, against a bare hand-written loop on the same batches that computes the same
numbers (forward, backward, SGD step; loss and accuracy summed as framework tensors; test
accuracy on 10000 images at the end) without d2l's Accumulator, Animator, Timer or per-batch
conversions. Target: d2l's overhead under 10%.

    python benchmarks/train_ch6.py [--frameworks mxnet,torch] [--repeats 2]

TensorFlow's `train_ch6` trains through Keras' `fit` (compiled graph), so its bare loop is
`fit` without the callback. Each framework runs in its own interpreter; the fastest of the
repeats is kept.
"""

import argparse
import contextlib
import io
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spec import backends, canonical, support  # noqa: E402


def _data(b):
    (x, y), (tx, ty) = (support.synthetic_fashion_mnist(60000, 0),
                        support.synthetic_fashion_mnist(10000, 1))

    def loader(images, labels):
        images = images[:, None].astype(np.float32) / 255
        return b.d2l.load_array((b.images(images), b.labels(labels)), 256, is_train=False)

    return loader(x, y), loader(tx, ty)


def _correct(b, y_hat, y):
    if b.name == "mxnet":
        return (y_hat.argmax(axis=1).astype(y.dtype) == y).sum()
    return (y_hat.argmax(axis=1) == y).sum()


def _bare_epoch(b, net, train_iter, test_iter, lr):
    """Forward, backward and step per batch; sums kept as tensors; test accuracy at the end."""
    loss_sum = correct = test_correct = 0
    if b.name == "torch":
        torch = b.fw
        optimizer = torch.optim.SGD(net.parameters(), lr=lr)
        loss = torch.nn.CrossEntropyLoss()
        net.train()
        for X, y in train_iter:
            optimizer.zero_grad()
            y_hat = net(X)
            l = loss(y_hat, y)
            l.backward()
            optimizer.step()
            loss_sum, correct = loss_sum + l.detach() * len(y), correct + _correct(b, y_hat, y)
        net.eval()
        with torch.no_grad():
            for X, y in test_iter:
                test_correct = test_correct + _correct(b, net(X), y)
    else:
        from mxnet import autograd, gluon

        trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": lr})
        loss = gluon.loss.SoftmaxCrossEntropyLoss()
        for X, y in train_iter:
            with autograd.record():
                y_hat = net(X)
                l = loss(y_hat, y)
            l.backward()
            trainer.step(X.shape[0])
            loss_sum, correct = loss_sum + l.sum(), correct + _correct(b, y_hat, y)
        for X, y in test_iter:
            test_correct = test_correct + _correct(b, net(X), y)
        b.fw.npx.waitall()
    return float(loss_sum), float(correct), float(test_correct)


def _keras_fit(b, params, train_iter, test_iter, lr, callback):
    """TensorFlow: `fit` with or without d2l's TrainCallback (what train_ch6 runs)."""
    from tensorflow import keras

    net = canonical.build(b, canonical.LENET, params, (1, 28, 28))
    net.compile(optimizer=keras.optimizers.SGD(learning_rate=lr),
                loss=canonical.classification_loss(b), metrics=["accuracy"],
                jit_compile=False)
    callbacks = [b.d2l.TrainCallback(net, train_iter, test_iter, 1, "/CPU:0")] if callback \
        else []
    net.fit(train_iter, epochs=1, verbose=0, callbacks=callbacks)
    if not callback:
        net.evaluate(test_iter, verbose=0)


def measure(name, repeats, lr=0.9):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    b = backends.Backend(name)
    train_iter, test_iter = _data(b)
    params = canonical.init_model(canonical.LENET, (1, 28, 28))
    bare, d2l = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        if name == "tensorflow":
            _keras_fit(b, params, train_iter, test_iter, lr, callback=False)
        else:
            _bare_epoch(b, canonical.build(b, canonical.LENET, params, (1, 28, 28)),
                        train_iter, test_iter, lr)
        bare.append(time.perf_counter() - t)
        t = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            if name == "tensorflow":
                _keras_fit(b, params, train_iter, test_iter, lr, callback=True)
            else:
                net = canonical.build(b, canonical.LENET, params, (1, 28, 28))
                b.d2l.train_ch6(net, train_iter, test_iter, 1, lr, b.d2l.try_gpu())
        if name == "mxnet":
            b.fw.npx.waitall()
        d2l.append(time.perf_counter() - t)
        plt.close("all")
    return min(bare), min(d2l)


def main():
    parser = argparse.ArgumentParser(description="train_ch6 LeNet epoch overhead")
    parser.add_argument("--frameworks", default=",".join(backends.installed()))
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(*measure(args.one, args.repeats))
        return
    print(f"{'framework':<11} {'bare epoch':>11} {'train_ch6 epoch':>16} {'overhead':>9}")
    for name in [n for n in backends.ORDER if n in args.frameworks.split(",")]:
        out = subprocess.run([sys.executable, __file__, "--one", name, "--repeats",
                              str(args.repeats)], capture_output=True, text=True, check=True)
        bare, d2l = map(float, out.stdout.split()[-2:])
        print(f"{name:<11} {bare:>10.2f}s {d2l:>15.2f}s {100 * (d2l / bare - 1):>8.1f}%")


if __name__ == "__main__":
    main()
