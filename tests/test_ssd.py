"""Detection end to end (13.7): the book's tiny SSD, built from the same canonical weights in
every framework, trained the book's way (multibox_target labels, class cross-entropy plus
masked L1 box loss, SGD with weight decay) on generated banana images."""

import numpy as np
import pytest

from spec import tiny_ssd as ssd
from spec.boxes import multibox_prior, pair_iou

SMALL = (8, 16, 16, 32)  # channel widths of the quick runs (the book's: 16, 32, 64, 128)


def _data(n, size, seed=0, batch=8):
    X, Y = ssd.banana_images(n, size, seed)
    return [(X[i:i + batch], Y[i:i + batch]) for i in range(0, n, batch)]


def _epoch_means(history, steps_per_epoch):
    h = np.asarray(history).reshape(-1, steps_per_epoch, 2)
    return h.mean(axis=1)  # (epochs, [class, box])


def test_tiny_ssd_shapes_and_training_reduces_both_losses(backend):
    """64 x 64 images: maps 8, 4, 2, 1, 1 with four anchors per pixel, predictions in the
    anchors' order, the anchors multibox_prior's of each map. Five epochs over 16 images:
    the class and the box loss of the last epoch are below the first epoch's."""
    net = ssd.build(backend, 1, SMALL, ssd.init_params(1, SMALL))
    batches = _data(16, 64)
    anchors, cls, bbox = ssd.forward(backend, net, batches[0][0][:2])
    num_anchors = 4 * (64 + 16 + 4 + 1 + 1)
    assert anchors.shape == (1, num_anchors, 4)
    assert cls.shape == (2, num_anchors, 2) and bbox.shape == (2, 4 * num_anchors)
    np.testing.assert_array_equal(anchors[0, :256],
                                  multibox_prior(8, 8, ssd.SIZES[0], ssd.RATIOS[0])[0])
    np.testing.assert_array_equal(anchors[0, -4:],
                                  multibox_prior(1, 1, ssd.SIZES[4], ssd.RATIOS[4])[0])
    means = _epoch_means(ssd.train(backend, net, batches * 5), len(batches))
    assert means[-1, 0] < 0.3 * means[0, 0], means
    assert means[-1, 1] < 0.95 * means[0, 1], means


def test_tiny_ssd_training_agrees_across_frameworks(all_backends):
    """Same canonical weights, same batches: the first forward pass and the losses of the
    first four SGD steps agree. PyTorch and TensorFlow (both on oneDNN) stay within 1e-4 of
    each other; MXNet's float32 gradients of the first layers (raw 0-255 pixels, as the
    book feeds them) differ by ~1% from theirs after one step, so its losses drift by up to
    1% over four steps at the book's learning rate 0.2."""
    params = ssd.init_params(1, SMALL, seed=1)
    batches = _data(16, 64, seed=1)
    X = batches[0][0][:2]
    outs, histories = {}, {}
    for b in all_backends:
        outs[b.name] = ssd.forward(b, ssd.build(b, 1, SMALL, params), X)
        histories[b.name] = np.asarray(ssd.train(b, ssd.build(b, 1, SMALL, params),
                                                 batches * 2))
    first = all_backends[0].name
    for name in outs:
        np.testing.assert_array_equal(outs[name][0], outs[first][0])
        for got, want in zip(outs[name][1:], outs[first][1:]):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    names = list(histories)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            rtol = 2e-2 if "mxnet" in (a, b) else 2e-3
            np.testing.assert_allclose(histories[a], histories[b], rtol=rtol, atol=1e-5,
                                       err_msg=f"{a} vs {b}")


@pytest.mark.slow
def test_book_tiny_ssd_learns_to_find_bananas(backend):
    """The book's widths, 128 x 128 images, 12 epochs: the class loss falls by 70% or more,
    the box loss (slow, as in the book: most anchors are masked out) by 10% or more, and on
    new images the most confident detection overlaps the banana (IoU > 0.5) for most
    of them."""
    net = ssd.build(backend, 1, ssd.BOOK_WIDTHS, ssd.init_params(1, ssd.BOOK_WIDTHS))
    batches = _data(96, 128, seed=2, batch=16)
    means = _epoch_means(ssd.train(backend, net, batches * 12), len(batches))
    assert means[-1, 0] < 0.3 * means[0, 0], means
    assert means[-1, 1] < 0.9 * means[0, 1], means
    X, Y = ssd.banana_images(16, 128, seed=3)
    anchors, cls, bbox = ssd.forward(backend, net, X)
    probs = np.exp(cls - cls.max(-1, keepdims=True))
    probs = (probs / probs.sum(-1, keepdims=True)).transpose(0, 2, 1)
    b, d2l = backend, backend.d2l
    out = b.numpy(d2l.multibox_detection(b.tensor(probs), b.tensor(bbox), b.tensor(anchors)))
    hits = [pair_iou(out[i, 0, 2:], Y[i, 0, 1:]) > 0.5 for i in range(len(X))]
    assert np.mean(hits) >= 0.75, hits
