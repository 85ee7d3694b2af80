"""Chapter 13.3-13.4 beyond the spec entries: box-algebra properties, NMS against
torchvision and across block sizes, the book's own examples, dtypes and devices."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from d2l.common import boxes as common_boxes
from spec import boxes as spec
from spec.entry import within

F = np.float32


def _np(backend, t):
    return backend.numpy(t)


@given(spec.box_sets(1, 8, flat=True))
def test_corner_center_round_trip(backend, corners):
    d2l = backend.d2l
    centre = d2l.box_corner_to_center(backend.tensor(corners))
    back = _np(backend, d2l.box_center_to_corner(centre))
    np.testing.assert_allclose(back, corners, rtol=0, atol=1e-6)
    again = _np(backend, d2l.box_corner_to_center(d2l.box_center_to_corner(centre)))
    np.testing.assert_allclose(again, _np(backend, centre), rtol=0, atol=1e-6)


@given(spec.box_sets(1, 7), spec.box_sets(1, 7))
def test_box_iou_properties(backend, a, b):
    """Symmetric, in [0, 1], never NaN (zero-area boxes too), 1 on the diagonal for boxes of
    positive area, 0 for disjoint or edge-touching boxes."""
    d2l = backend.d2l
    ab = _np(backend, d2l.box_iou(backend.tensor(a), backend.tensor(b)))
    ba = _np(backend, d2l.box_iou(backend.tensor(b), backend.tensor(a)))
    aa = _np(backend, d2l.box_iou(backend.tensor(a), backend.tensor(a)))
    assert not np.isnan(ab).any()
    np.testing.assert_array_equal(ab, ba.T)
    assert ((ab >= 0) & (ab <= 1)).all()
    area = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    np.testing.assert_array_equal(np.diag(aa)[area > 0], 1)
    np.testing.assert_array_equal(np.diag(aa)[area == 0], 0)
    apart = ((a[:, None, 2] <= b[None, :, 0]) | (b[None, :, 2] <= a[:, None, 0])
             | (a[:, None, 3] <= b[None, :, 1]) | (b[None, :, 3] <= a[:, None, 1]))
    np.testing.assert_array_equal(ab[apart], 0)


def test_touching_and_identical_boxes(backend):
    boxes = backend.tensor(np.array([[0, 0, 1, 1], [1, 0, 2, 1], [0, 0, 1, 1], [0, 0, 0, 1]],
                                    F))
    iou = _np(backend, backend.d2l.box_iou(boxes, boxes))
    np.testing.assert_array_equal(iou, [[1, 0, 1, 0], [0, 1, 0, 0], [1, 0, 1, 0],
                                        [0, 0, 0, 0]])


@given(st.integers(0, 2 ** 16), st.sampled_from([(5,), (2, 3)]))
def test_offset_inverse_undoes_offset_boxes(backend, seed, shape):
    """offset_inverse(anchors, offset_boxes(anchors, b)) == b up to the eps in the log
    (wh comes back as wh_b + eps wh_anchor) and float32 rounding."""
    rng = np.random.default_rng(seed)
    anchors = spec._random_corners(rng, shape, 0.05)
    boxes = spec._random_corners(rng, shape, 0.0)
    d2l = backend.d2l
    a = backend.tensor(anchors)
    back = _np(backend, d2l.offset_inverse(a, d2l.offset_boxes(a, backend.tensor(boxes))))
    np.testing.assert_allclose(back, boxes, rtol=0, atol=2e-5)


def _random_boxes(rng, n, size=1000.0):
    xy = rng.uniform(0, size, (n, 2))
    wh = rng.uniform(5, size / 8, (n, 2))
    return np.concatenate([xy, xy + wh], 1).astype(F)


def _greedy_numpy(boxes, scores, threshold):
    """Greedy NMS in NumPy, one kept box against all the others at a time."""
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    order, keep = np.argsort(-scores, kind="stable"), []
    while order.size:
        i, rest = order[0], order[1:]
        keep.append(i)
        w = np.clip(np.minimum(boxes[i, 2], boxes[rest, 2])
                    - np.maximum(boxes[i, 0], boxes[rest, 0]), 0, None)
        h = np.clip(np.minimum(boxes[i, 3], boxes[rest, 3])
                    - np.maximum(boxes[i, 1], boxes[rest, 1]), 0, None)
        inter = w * h
        order = rest[inter / (area[i] + area[rest] - inter) <= threshold]
    return np.asarray(keep)


@pytest.mark.parametrize("threshold", [0.0, 0.5])
def test_nms_keeps_what_torchvision_keeps(backend, threshold):
    """400 random boxes (two blocks) with distinct scores: the same indices, in the same
    order, as torchvision.ops.nms (or, without torchvision, the spec's greedy reference)."""
    rng = np.random.default_rng(int(threshold * 10))
    boxes = _random_boxes(rng, 400)
    scores = rng.permutation(400).astype(F) / 400
    kept = _np(backend, backend.d2l.nms(backend.tensor(boxes), backend.tensor(scores),
                                        threshold))
    try:
        import torch
        import torchvision
    except ImportError:
        expected = _greedy_numpy(boxes, scores, threshold)
    else:
        expected = torchvision.ops.nms(torch.from_numpy(boxes), torch.from_numpy(scores),
                                       threshold).numpy()
    np.testing.assert_array_equal(kept, expected)


@settings(max_examples=10)
@given(spec._nms_inputs(), st.sampled_from([1, 2, 3, 5]))
def test_nms_is_the_same_whatever_the_block_size(backend, case, block):
    """Blocks of 1, 2, 3 or 5 boxes (chains inside and across blocks) keep what the book's
    greedy loop keeps."""
    boxes, scores, threshold = case
    saved, common_boxes.NMS_BLOCK = common_boxes.NMS_BLOCK, block
    try:
        observed = spec._nms_call(backend, boxes, scores, threshold)
    finally:
        common_boxes.NMS_BLOCK = saved
    expected = spec._nms_reference(boxes, scores, threshold)
    if boxes.ndim == 2:
        observed, expected = [observed], [expected]
    for o, e in zip(observed, expected):
        np.testing.assert_array_equal(o, e)


BLOCKED = [e for e in spec.ENTRIES if e.name in (
    "box_iou", "assign_anchor_to_bbox", "multibox_target")]


@pytest.mark.parametrize("entry", BLOCKED, ids=[e.name for e in BLOCKED])
def test_iou_blocks_change_nothing(entry, backend):
    """On a CPU the IoUs come in blocks of about IOU_CHUNK pairs: blocks of one row (one
    example for anchor labelling) give the reference's results too."""

    @settings(max_examples=8)
    @given(entry.inputs())
    def check(args):
        observed = entry.call(backend, *args)
        assert within(observed, entry.reference(*args), entry.tol), (entry.name, observed)

    saved, common_boxes.IOU_CHUNK = common_boxes.IOU_CHUNK, 1
    try:
        check()
    finally:
        common_boxes.IOU_CHUNK = saved


def test_nms_chain_of_overlaps(backend):
    """Each box overlaps only the next, scores falling: greedy keeps every other box (a
    fixed point reached over many passes inside one block)."""
    n = 40
    x = np.arange(n, dtype=F) * 0.6
    boxes = np.stack([x, np.zeros(n, F), x + 1, np.ones(n, F)], 1)
    scores = np.linspace(1, 0.1, n).astype(F)
    kept = _np(backend, backend.d2l.nms(backend.tensor(boxes), backend.tensor(scores), 0.2))
    np.testing.assert_array_equal(kept, np.arange(0, n, 2))


def test_equal_scores_keep_index_order(backend):
    boxes = backend.tensor(np.array([[0, 0, 1, 1], [5, 5, 6, 6], [0, 0, 1, 1.05],
                                     [9, 9, 10, 10]], F))
    scores = backend.tensor(np.array([0.5, 0.5, 0.5, 0.9], F))
    np.testing.assert_array_equal(_np(backend, backend.d2l.nms(boxes, scores, 0.5)),
                                  [3, 0, 1])


HOSTED = [e for e in spec.ENTRIES if e.name in (
    "multibox_prior", "box_iou", "assign_anchor_to_bbox", "offset_boxes", "multibox_target",
    "offset_inverse", "nms", "multibox_detection")]


@pytest.mark.parametrize("entry", HOSTED, ids=[e.name for e in HOSTED])
def test_framework_ops_on_the_cpu_match_the_reference(entry, backend):
    """MXNet and TensorFlow run CPU tensors through NumPy (faster there); their own ops,
    which run on GPUs, are checked here on the CPU too (PyTorch always runs its own)."""

    @settings(max_examples=8)
    @given(entry.inputs())
    def check(args):
        observed = entry.call(backend, *args)
        expected = entry.reference(*args)
        assert within(observed, expected, entry.tol), (entry.name, observed, expected)

    saved, common_boxes.HOST_ON_CPU = common_boxes.HOST_ON_CPU, False
    try:
        check()
    finally:
        common_boxes.HOST_ON_CPU = saved


# --- the book's examples (13.4) -----------------------------------------------------------

GROUND_TRUTH = np.array([[0, 0.1, 0.08, 0.52, 0.92], [1, 0.55, 0.2, 0.9, 0.88]], F)
ANCHORS = np.array([[0, 0.1, 0.2, 0.3], [0.15, 0.2, 0.4, 0.4], [0.63, 0.05, 0.88, 0.98],
                    [0.66, 0.45, 0.8, 0.8], [0.57, 0.3, 0.92, 0.9]], F)


def test_book_multibox_prior(backend):
    """The book's 561 x 728 image, sizes 0.75, 0.5, 0.25 and ratios 1, 2, 0.5: 5 anchors per
    pixel, the first anchor at pixel (250, 250) as the book prints it."""
    h, w = 561, 728
    data = backend.images(np.zeros((1, 3, h, w), F))
    Y = backend.d2l.multibox_prior(data, sizes=[0.75, 0.5, 0.25], ratios=[1, 2, 0.5])
    assert tuple(Y.shape) == (1, h * w * 5, 4)
    boxes = _np(backend, backend.d2l.reshape(Y, (h, w, 5, 4)))
    np.testing.assert_allclose(boxes[250, 250, 0], [0.06, 0.07, 0.63, 0.82], atol=5e-3)
    centres = (boxes[..., :2] + boxes[..., 2:]) / 2
    np.testing.assert_allclose(centres[3, 7, 2], [(7 + 0.5) / w, (3 + 0.5) / h], atol=1e-6)


def test_book_labelling_example(backend):
    """13.4.3: the book's printed assignment, class labels, mask and offsets."""
    d2l = backend.d2l
    offsets, mask, classes = d2l.multibox_target(backend.tensor(ANCHORS[None]),
                                                 backend.tensor(GROUND_TRUTH[None]))
    np.testing.assert_array_equal(_np(backend, classes), [[0, 1, 2, 0, 2]])
    np.testing.assert_array_equal(_np(backend, mask), [[0] * 4 + [1] * 8 + [0] * 4 + [1] * 4])
    np.testing.assert_allclose(_np(backend, offsets), [[
        0, 0, 0, 0, 1.4, 10, 2.59, 7.18, -1.2, 0.269, 1.68, -1.57, 0, 0, 0, 0,
        -0.571, -1, 4.17e-06, 0.626]], rtol=3e-3, atol=1e-8)
    assert backend.dtype_name(classes) == spec.INDEX_DTYPES[backend.name]
    assert backend.dtype_name(mask) == spec.MASK_DTYPES[backend.name]
    assert backend.dtype_name(offsets) == "float32"
    assigned = d2l.assign_anchor_to_bbox(backend.tensor(GROUND_TRUTH[:, 1:]),
                                         backend.tensor(ANCHORS), backend.device)
    np.testing.assert_array_equal(_np(backend, assigned), [-1, 0, 1, -1, 1])
    assert backend.dtype_name(assigned) == spec.INDEX_DTYPES[backend.name]


def test_book_detection_example(backend):
    """13.4.4: four anchors, two classes; with the spec's tie rule the rows come out as the
    book's PyTorch cell prints them."""
    d2l = backend.d2l
    anchors = np.array([[0.1, 0.08, 0.52, 0.92], [0.08, 0.2, 0.56, 0.95],
                        [0.15, 0.3, 0.62, 0.91], [0.55, 0.2, 0.9, 0.88]], F)
    cls_probs = np.array([[0] * 4, [0.9, 0.8, 0.7, 0.1], [0.1, 0.2, 0.3, 0.9]], F)
    out = d2l.multibox_detection(backend.tensor(cls_probs[None]),
                                 backend.tensor(np.zeros((1, 16), F)),
                                 backend.tensor(anchors[None]), nms_threshold=0.5)
    np.testing.assert_allclose(_np(backend, out)[0], [
        [0, 0.9, 0.1, 0.08, 0.52, 0.92], [1, 0.9, 0.55, 0.2, 0.9, 0.88],
        [-1, 0.8, 0.08, 0.2, 0.56, 0.95], [-1, 0.7, 0.15, 0.3, 0.62, 0.91]], atol=1e-6)
    kept = d2l.nms(backend.tensor(anchors), backend.tensor(np.array([0.9, 0.8, 0.7, 0.9], F)),
                   0.5)
    assert backend.dtype_name(kept) == spec.INDEX_DTYPES[backend.name]


def test_more_boxes_than_anchors(backend):
    """Three boxes, two anchors: only two assignments (upstream then gave anchor 0 to box 0
    whatever its IoU)."""
    gt = np.array([[0, 0, 1, 1], [5, 5, 6, 6], [2, 2, 3, 3]], F)
    anchors = np.array([[5, 5, 6, 6], [2, 2, 3.5, 3]], F)
    out = backend.d2l.assign_anchor_to_bbox(backend.tensor(gt), backend.tensor(anchors),
                                            backend.device)
    np.testing.assert_array_equal(_np(backend, out), [1, 2])


def test_iou_threshold_is_used(backend):
    """Upstream ignored iou_threshold: here a lower one assigns more anchors."""
    gt = np.array([[0, 0, 1, 1]], F)
    anchors = np.array([[0, 0, 1, 1], [0, 0, 0.6, 1], [0, 0, 0.3, 1]], F)
    d2l = backend.d2l
    at = [_np(backend, d2l.assign_anchor_to_bbox(backend.tensor(gt), backend.tensor(anchors),
                                                 backend.device, iou_threshold=t))
          for t in (0.5, 0.25, 0.7)]
    np.testing.assert_array_equal(at, [[0, 0, -1], [0, 0, 0], [0, -1, -1]])


def test_show_bboxes_draws_on_axes(backend):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots()
    backend.d2l.show_bboxes(axes, backend.tensor(ANCHORS), ["a", "b"])
    assert len(axes.patches) == 5 and [t.get_text() for t in axes.texts] == ["a", "b"]
    plt.close(fig)


# --- devices ------------------------------------------------------------------------------

@pytest.mark.gpu
def test_boxes_stay_on_the_gpu(gpu_backend):
    """Every result lives where its inputs do, and NMS on the GPU keeps what torchvision
    keeps."""
    b, d2l = gpu_backend, gpu_backend.d2l
    rng = np.random.default_rng(0)
    boxes = _random_boxes(rng, 700)
    scores = rng.permutation(700).astype(F) / 700
    outputs = [d2l.box_iou(b.tensor(boxes), b.tensor(boxes)),
               d2l.nms(b.tensor(boxes), b.tensor(scores), 0.5),
               d2l.multibox_prior(b.images(np.zeros((1, 3, 4, 5), F)), [0.5], [1, 2]),
               *d2l.multibox_target(b.tensor(ANCHORS[None]), b.tensor(GROUND_TRUTH[None])),
               d2l.assign_anchor_to_bbox(b.tensor(GROUND_TRUTH[:, 1:]), b.tensor(ANCHORS),
                                         b.device)]
    for out in outputs:
        where = str(getattr(out, "device", None) or out.context).lower()
        assert "gpu" in where or "cuda" in where, where
    import torch
    import torchvision

    expected = torchvision.ops.nms(torch.from_numpy(boxes).cuda(),
                                   torch.from_numpy(scores).cuda(), 0.5).cpu().numpy()
    np.testing.assert_array_equal(b.numpy(outputs[1]), expected)


# --- the NumPy host ops (MXNet and TensorFlow on the CPU) ----------------------------------

HOST = common_boxes.NumpyOps("int64", "float32")


def _real_boxes(rng, n):
    """Boxes with some empty, inverted and NaN ones among them."""
    xy = rng.uniform(0, 1, (n, 2))
    wh = rng.uniform(-0.05, 0.3, (n, 2)) * (rng.random((n, 2)) > 0.2)
    boxes = np.concatenate([xy, xy + wh], 1).astype(F)
    boxes[rng.random(n) < 0.05, rng.integers(0, 4)] = np.nan
    return boxes


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2 ** 16), st.integers(0, 40), st.integers(0, 40),
       st.sampled_from([1, 7, 64, 2 ** 18]))
def test_host_iou_is_the_generic_iou_bit_for_bit(seed, n1, n2, chunk):
    """NumpyOps.iou (in place, rows split over threads) computes the same float32 numbers
    as the operations of `_iou`, for any block size, empty and NaN boxes included."""
    rng = np.random.default_rng(seed)
    a, b = _real_boxes(rng, n1), _real_boxes(rng, n2)
    saved, common_boxes.IOU_CHUNK = common_boxes.IOU_CHUNK, chunk
    try:
        got = HOST.iou(a, b)
        batched = HOST.iou(a.reshape(1, n1, 4), b[None])
    finally:
        common_boxes.IOU_CHUNK = saved
    expected = common_boxes._iou(HOST, a, b)
    assert got.shape == batched.shape[1:] == (n1, n2)
    assert got.size == 0 or got.ctypes.data % 64 == 0  # TensorFlow takes it as it is
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(batched[0], expected)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2 ** 16), st.lists(st.integers(1, 6), min_size=1, max_size=3),
       st.integers(-3, 2), st.sampled_from(["float32", "int64"]))
def test_host_max_argmax_is_max_and_first_argmax(seed, shape, axis, dtype):
    """Ties (values from a handful) and NaN (the largest, first one wins) as NumPy's
    argmax has them, along every axis."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 3, shape).astype(dtype)
    if dtype == "float32":
        x[rng.random(shape) < 0.1] = np.nan
    axis = axis % len(shape)
    top, first = HOST.max_argmax(x, axis)
    np.testing.assert_array_equal(top, x.max(axis))
    np.testing.assert_array_equal(first, x.argmax(axis))
    assert first.dtype == np.int64


@pytest.mark.parametrize("shapes", [((), (), ()), ((1,), (1,), (1,)), ((5,), (3, 1), (5,)),
                                    ((300,), (1000, 1), (300,)), ((2, 5), (7, 1, 1), (5,))])
def test_host_multiply_add_in_blocks(shapes):
    """a + b * c written row block by row block (multibox_prior's anchors): the same as
    NumPy's broadcast in one go, in a 64-byte-aligned result."""
    rng = np.random.default_rng(0)
    a, b, c = (rng.random(shape).astype(F) for shape in shapes)
    got = HOST.multiply_add(a, b, c)
    np.testing.assert_array_equal(got, a + b * c)
    assert got.shape == np.broadcast_shapes(*shapes) and got.ctypes.data % 64 == 0
