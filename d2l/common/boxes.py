"""Bounding boxes and anchor boxes (13.3-13.4), written once for every framework.

The box algebra, anchor generation, anchor labelling, non-maximum suppression and detection
take the backend's small tensor vocabulary `ops` first (see `BoxOps`); each backend binds
them (`bind`), so `d2l.box_iou(boxes1, boxes2)` keeps the book's signature and every
framework runs the same float32 operations in the same order (identical inputs give
identical boxes, IoUs and NMS decisions). Plotting (`bbox_to_rect`, `show_bboxes`) is
framework-free.

Boxes are (..., 4): corners (x1, y1, x2, y2) or centres (cx, cy, w, h) on the last axis.
"""

import contextlib
import functools
import inspect
import math
import numbers
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import checks
from .tensors import to_numpy

# Rows of the boolean blocks NMS resolves at once: the greedy order is kept exactly (see nms).
NMS_BLOCK = 256
# Pairs of boxes per block of a CPU IoU (2 MB of float32 results): the fastest of 2**16 to
# 2**20 here for NumPy and PyTorch (smaller blocks pay more per-call overhead than they save
# in cache misses).
IOU_CHUNK = 2 ** 19


class BoxOps:
    """What a backend provides: methods of an instance, on the framework's tensors `x`.

    Attributes: index_dtype, mask_dtype (names of the dtypes of returned indices and of
    multibox_target's mask).
    Placement: scope(x) (a context placing new tensors on x's device), tensor(array, like)
    (a NumPy array on like's device), full(shape, value, dtype, like), arange(n, like)
    (int64), is_cpu(x), to_device(x, device), feature_hw(data) ((H, W) of a feature map).
    Elementwise: maximum, minimum, relu, where (a branch may be a Python number),
    multiply_add(a, b, c) (a + b * c broadcast, in as few passes as the backend can; the
    product may be fused, so callers use it where b * c is exact),
    logical_and, logical_or, logical_not, log, exp, cast(x, dtype), floating(x) (x, or x as
    float32 if not a float type).
    Along one axis: max_argmax(x, axis) (the maxima and the first index reaching each),
    any(x, axis); argsort(x) (stable ascending order of a 1-D tensor, int64).
    Shapes and indexing: reshape, expand_dims, stack, concat, matmul, coords(x) (the 4
    contiguous (..., N) coordinates of boxes (..., N, 4)), take(x, index) (rows along axis 0),
    mask_rows(x, mask) (boolean rows along axis 0), put(x, index, values) (a copy of 1-D x
    with x[index] = values; provided here by item assignment), mark(index, n) (a boolean
    (n,) tensor, True at index).
    same(a, b): whether two boolean tensors are equal (a Python bool).
    concat_blocks(block, n, step): block(i) (rows i to i + step) for i = 0, step, 2 step ...
    below n, concatenated along axis 0 (provided here with concat).
    iou(boxes1, boxes2): pairwise IoU (provided here: `_iou_in_blocks`; on a CPU, backends
    with `out=` arguments use `_iou_in_place` instead, with empty(shape, like) (float32),
    add, subtract, multiply (a, b, out=), maximum and minimum with out=, relu_(x) and
    divide_where_positive_(num, den) (num / den where den > 0, in place) and
    in_ranges(fill, n, step) (fill(lo, hi) over rows [0, n) in runs of whole steps)).
    """

    index_dtype = "int64"
    mask_dtype = "float32"

    def scope(self, x):
        return contextlib.nullcontext()

    def concat_blocks(self, block, n, step):
        return self.concat([block(i) for i in range(0, n, step)], 0)

    def iou(self, boxes1, boxes2):
        """Pairwise IoU (..., N1, N2) of float32 boxes, as `_iou_in_blocks` computes it."""
        return _iou_in_blocks(self, boxes1, boxes2)

    @staticmethod
    def put(x, index, values):
        """A copy of x with x[index] = values (for arrays that take item assignment)."""
        out = x.copy()
        out[index] = values
        return out


# --- checks ------------------------------------------------------------------------------

def _shape(x):
    return tuple(int(d) for d in x.shape)


def check_boxes(fn, name, x, last=4, min_rank=1, max_rank=None):
    """Raise ValueError unless tensor `x` has `last` numbers on its last axis and a rank in
    [min_rank, max_rank]."""
    shape = _shape(x)
    if len(shape) < min_rank or (max_rank is not None and len(shape) > max_rank) or (
            shape[-1] != last):
        ranks = f"{min_rank}-{max_rank}" if max_rank else f">= {min_rank}"
        raise ValueError(f"{fn}: {name} must have {last} numbers on its last axis (rank "
                         f"{ranks}), got shape {shape}")


def positive_list(fn, name, values):
    """`values` (a number or a sequence/array of them) as a list of positive finite floats,
    else ValueError naming `name`."""
    flat = np.atleast_1d(np.asarray(to_numpy(values) if hasattr(values, "shape") else values,
                                    dtype=object)).ravel().tolist()
    ok = bool(flat) and all(isinstance(v, numbers.Real) and not isinstance(v, bool)
                            and math.isfinite(v) and v > 0 for v in flat)
    if not ok:
        raise ValueError(f"{fn}: {name} must be a non-empty list of positive finite numbers, "
                         f"got {values!r}")
    return [float(v) for v in flat]


# --- 13.3 -------------------------------------------------------------------------------

def box_corner_to_center(ops, boxes):
    """(..., 4) corners (x1, y1, x2, y2) -> centres (cx, cy, w, h): cx = (x1 + x2) / 2,
    w = x2 - x1 (same for y)."""
    check_boxes("box_corner_to_center", "boxes", boxes)
    return _to_center(ops, ops.floating(boxes))


def box_center_to_corner(ops, boxes):
    """(..., 4) centres (cx, cy, w, h) -> corners: x1 = cx - 0.5 w, x2 = cx + 0.5 w."""
    check_boxes("box_center_to_corner", "boxes", boxes)
    return _to_corner(ops, ops.floating(boxes))


def _to_center(ops, b):
    return ops.stack(_center_planes(ops, b), -1)


def _center_planes(ops, b):
    """The centres (cx, cy, w, h) of corner boxes b (..., 4), as 4 contiguous (...)."""
    x1, y1, x2, y2 = ops.coords(b)
    return (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1


def _to_corner(ops, b):
    cx, cy, w, h = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    return ops.stack([cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h], -1)


def bbox_to_rect(bbox, color):
    """An unfilled matplotlib Rectangle (line width 2) of a corner box (x1, y1, x2, y2)."""
    import matplotlib.pyplot as plt

    x1, y1, x2, y2 = (float(v) for v in to_numpy(bbox).reshape(-1)[:4])
    return plt.Rectangle(xy=(x1, y1), width=x2 - x1, height=y2 - y1, fill=False,
                         edgecolor=color, linewidth=2)


# --- 13.4 -------------------------------------------------------------------------------

def anchor_half_sizes(sizes, ratios, height, width):
    """(boxes_per_pixel, 4) float32 offsets (-w, -h, w, h) of a pixel's anchors from its
    centre, in units of the image: half-width s·√r·(H/W)/2, half-height s/√r/2 for the
    pairs (s_i, r_0) then (s_0, r_j), j >= 1 (computed in float64, rounded once)."""
    pairs = [(s, ratios[0]) for s in sizes] + [(sizes[0], r) for r in ratios[1:]]
    s, r = np.array(pairs, dtype=np.float64).T
    half_w = s * np.sqrt(r) * height / width / 2
    half_h = s / np.sqrt(r) / 2
    return np.stack([-half_w, -half_h, half_w, half_h], axis=1).astype(np.float32)


def first_row_anchors(offsets, width):
    """(W * k * 4,) float32 anchors of the pixels of an image row whose centre has y = 0,
    for the anchor offsets (k, 4) from `anchor_half_sizes`: the x coordinates are
    (x + 0.5) / W + offset, the y coordinates the bare offsets; and a (W * k * 4,) float32
    mask, 1 at the y coordinates."""
    cx = ((np.arange(width) + 0.5) / width).astype(np.float32)
    is_y = np.array([0, 1, 0, 1], dtype=np.float32)
    row = np.where(is_y == 1, offsets, cx[:, None, None] + offsets)  # (W, k, 4)
    return row.reshape(-1), np.tile(is_y, width * offsets.shape[0])


def multibox_prior(ops, data, sizes, ratios):
    """Anchors (1, H * W * (len(sizes) + len(ratios) - 1), 4) in corners, in units of the
    image, for a feature map `data` (see the backend for its layout): each pixel's anchors
    are consecutive, pixels in row-major order, on data's device.

    Row y of the image is the first row's anchors plus (y + 0.5) / H on the y coordinates:
    one broadcast (W * k * 4,) + (H, 1) * (W * k * 4,) multiply-add writes the whole
    (contiguous) result, float32 sums equal to centre + offset."""
    fn = "multibox_prior"
    sizes, ratios = positive_list(fn, "sizes", sizes), positive_list(fn, "ratios", ratios)
    height, width = ops.feature_hw(data)
    offsets = anchor_half_sizes(sizes, ratios, height, width)
    row, is_y = first_row_anchors(offsets, width)
    cy = ((np.arange(height) + 0.5) / height).astype(np.float32)
    with ops.scope(data):
        anchors = ops.multiply_add(ops.tensor(row, data), ops.tensor(cy[:, None], data),
                                   ops.tensor(is_y, data))  # exact: is_y is 0 or 1
        return ops.reshape(anchors, (1, -1, 4))


def box_iou(ops, boxes1, boxes2):
    """IoU of every pair: (..., N1, 4) x (..., N2, 4) corner boxes -> (..., N1, N2)
    (leading axes broadcast). Boxes with x2 < x1 or y2 < y1 count as empty; a pair whose
    union is empty has IoU 0 (never NaN)."""
    check_boxes("box_iou", "boxes1", boxes1, min_rank=2)
    check_boxes("box_iou", "boxes2", boxes2, min_rank=2)
    with ops.scope(boxes1):
        boxes1, boxes2 = _f32(ops, boxes1), _f32(ops, boxes2)
        if len(_shape(boxes1)) == len(_shape(boxes2)) == 2:
            return ops.iou(boxes1, boxes2)
        return _iou(ops, boxes1, boxes2)


def _f32(ops, x):
    """`x` as float32 (the box algorithms compute in float32 in every framework)."""
    return ops.cast(x, "float32")


def _iou_in_blocks(ops, boxes1, boxes2):
    """_iou(boxes1, boxes2), on a CPU in blocks along boxes1's first axis of about IOU_CHUNK
    pairs each, whose temporaries stay in the CPU's cache. boxes2 must be the same for every
    index of that axis: (N2, 4) for boxes1 (N1, 4), (1, N2, 4) for boxes1 (B, G, 4)."""
    shape1 = _shape(boxes1)
    pairs = math.prod(shape1[1:-1]) * _shape(boxes2)[-2]  # per index of the first axis
    step = max(1, IOU_CHUNK // max(pairs, 1))
    if shape1[0] <= step or not ops.is_cpu(boxes1):
        return _iou(ops, boxes1, boxes2)
    return ops.concat_blocks(lambda i: _iou(ops, boxes1[i:i + step], boxes2), shape1[0], step)


def _iou(ops, boxes1, boxes2):
    """Pairwise IoU, one coordinate at a time on (..., N1, 1) and (..., 1, N2) columns. The
    union is 0 only when both areas are (then the intersection is 0 too, and so the IoU)."""
    a = [ops.expand_dims(c, -1) for c in ops.coords(boxes1)]
    b = [ops.expand_dims(c, -2) for c in ops.coords(boxes2)]
    width = ops.relu(ops.minimum(a[2], b[2]) - ops.maximum(a[0], b[0]))
    height = ops.relu(ops.minimum(a[3], b[3]) - ops.maximum(a[1], b[1]))
    inter = width * height
    area_a = ops.relu(a[2] - a[0]) * ops.relu(a[3] - a[1])
    area_b = ops.relu(b[2] - b[0]) * ops.relu(b[3] - b[1])
    union = (area_a + area_b) - inter
    return inter / ops.where(union > 0, union, 1.0)


def _iou_in_place(ops, boxes1, boxes2):
    """_iou(boxes1, boxes2) on a CPU, for boxes (N1, 4) x (N2, 4) or (B, G, 4) x (1, N2, 4):
    the same float32 operations in the same order (the same numbers), written in place into
    the result in blocks of about IOU_CHUNK pairs. `ops.in_ranges`
    runs the blocks in runs (NumPy: one per host thread, side by side), each run with its
    own scratch blocks, so that nothing is allocated per block."""
    shape1, shape2 = _shape(boxes1), _shape(boxes2)
    if len(shape1) == len(shape2) == 3 and shape2[0] == 1:
        flat = _iou_in_place(ops, ops.reshape(boxes1, (-1, 4)), boxes2[0])
        return ops.reshape(flat, (shape1[0], shape1[1], shape2[1]))
    if not len(shape1) == len(shape2) == 2:
        return _iou(ops, boxes1, boxes2)
    a = [ops.expand_dims(c, 1) for c in ops.coords(boxes1)]
    b = [ops.expand_dims(c, 0) for c in ops.coords(boxes2)]
    area_a = ops.relu(a[2] - a[0]) * ops.relu(a[3] - a[1])
    area_b = ops.relu(b[2] - b[0]) * ops.relu(b[3] - b[1])
    (n, m), step = (shape1[0], shape2[0]), max(1, IOU_CHUNK // max(shape2[0], 1))
    out = ops.empty((n, m), boxes1)

    def fill(lo, hi):
        scratch = ops.empty((2, min(step, hi - lo), m), boxes1)
        for i in range(lo, hi, step):
            rows = slice(i, min(i + step, hi))
            inter, other, union = out[rows], scratch[1, :rows.stop - i], scratch[0, :rows.stop - i]
            _side_into(ops, inter, union, a[0][rows], a[2][rows], b[0], b[2])  # width
            _side_into(ops, other, union, a[1][rows], a[3][rows], b[1], b[3])  # height
            ops.multiply(inter, other, out=inter)
            ops.add(area_a[rows], area_b, out=union)
            ops.subtract(union, inter, out=union)
            ops.divide_where_positive_(inter, union)

    ops.in_ranges(fill, n, step)
    return out


def _side_into(ops, out, scratch, low1, high1, low2, high2):
    """relu(min(high1, high2) - max(low1, low2)) into `out` (broadcast), as `_iou` computes
    a side of an intersection; `scratch` is overwritten."""
    ops.maximum(low1, low2, out=scratch)
    ops.minimum(high1, high2, out=out)
    ops.subtract(out, scratch, out=out)
    ops.relu_(out)


def assign_anchor_to_bbox(ops, ground_truth, anchors, iou_threshold=0.5):
    """For anchors (A, 4) and ground-truth boxes (G, 4) or a batch (B, G, 4): the index of
    each anchor's box, or -1, shape (A,) or (B, A).

    The book's algorithm on the IoU matrix J (anchors x boxes): an anchor whose best IoU is
    >= iou_threshold takes that box; then, once per box, the largest remaining entry of J
    (the first in row-major order among equal ones) assigns its anchor to its box, and that
    anchor's row and box's column leave J. Entries stop counting once every row or column
    has left (upstream then reassigned anchor 0 to box 0 when boxes outnumber anchors).
    """
    fn = "assign_anchor_to_bbox"
    check_boxes(fn, "ground_truth", ground_truth, min_rank=2, max_rank=3)
    check_boxes(fn, "anchors", anchors, min_rank=2, max_rank=2)
    checks.probability(fn, "iou_threshold", iou_threshold)
    with ops.scope(anchors):
        single = len(_shape(ground_truth)) == 2
        gt = _f32(ops, ops.expand_dims(ground_truth, 0) if single else ground_truth)
        assigned = _assign(ops, gt, _f32(ops, anchors), iou_threshold)
        return assigned[0] if single else assigned


def _assign(ops, gt, anchors, threshold):
    """(B, A) int64 box index per anchor (or -1) for boxes gt (B, G, 4), anchors (A, 4).

    Works on the IoUs laid out (B, G, A) (the long anchor axis innermost) through each box's
    largest IoU with a free anchor and the first anchor reaching it: the largest remaining
    entry, first in (anchor, box) order among equal ones, is at the smallest such anchor among
    the boxes reaching the overall maximum, with the first of those boxes. Taking an anchor
    only changes the boxes whose best anchor it was: only theirs are recomputed.
    """
    batch, num_gt = _shape(gt)[:2]
    num_anchors = _shape(anchors)[0]
    if num_gt == 0 or num_anchors == 0:
        return ops.full((batch, num_anchors), -1, "int64", anchors)
    jaccard = ops.iou(gt, ops.expand_dims(anchors, 0))  # (B, G, A)
    best, best_box = ops.max_argmax(jaccard, 1)
    assigned = ops.where(best >= threshold, best_box, -1)
    rows = ops.reshape(jaccard, (batch * num_gt, num_anchors))  # one per (example, box)
    col_max, col_anchor = ops.max_argmax(rows, 1)  # (B G,): every anchor is free
    anchor_ids = ops.expand_dims(ops.arange(num_anchors, anchors), 0)
    box_ids = ops.expand_dims(ops.arange(num_gt, anchors), 0)
    example_of = ops.reshape(ops.expand_dims(ops.arange(batch, anchors), 1) + box_ids * 0,
                             (-1,))
    free_anchor = ops.full((batch, num_anchors), True, "bool", anchors)
    free_box = ops.full((batch, num_gt), True, "bool", anchors)
    steps = []
    for _ in range(min(num_gt, num_anchors)):
        value = ops.where(free_box, ops.reshape(col_max, (batch, num_gt)), -1.0)
        anchor = ops.reshape(col_anchor, (batch, num_gt))
        top = ops.max_argmax(value, 1)[0]
        found = ops.expand_dims(top >= 0, 1)  # removed entries are -1
        at_top = value == ops.expand_dims(top, 1)
        row = ops.expand_dims(-ops.max_argmax(-ops.where(at_top, anchor, num_anchors), 1)[0], 1)
        first = ops.logical_and(at_top, anchor == row)
        col = ops.expand_dims(ops.max_argmax(ops.cast(first, "float32"), 1)[1], 1)
        hit = anchor_ids == ops.where(found, row, -1)  # anchor ids are >= 0
        steps.append((found, row, col))
        free_anchor = ops.logical_and(free_anchor, ops.logical_not(hit))
        free_box = ops.logical_and(free_box, ops.logical_not(ops.logical_and(
            box_ids == col, found)))
        stale = ops.mask_rows(ops.arange(batch * num_gt, anchors), ops.reshape(
            ops.logical_and(ops.logical_and(anchor == row, free_box), found), (-1,)))
        if _shape(stale)[0]:
            free = ops.take(free_anchor, ops.take(example_of, stale))
            fresh_max, fresh_anchor = ops.max_argmax(
                ops.where(free, ops.take(rows, stale), -1.0), 1)
            col_max = ops.put(col_max, stale, fresh_max)
            col_anchor = ops.put(col_anchor, stale, fresh_anchor)
    return _assign_steps(ops, assigned, steps)


def _assign_steps(ops, assigned, steps):
    """`assigned` (B, A) with the greedy steps' anchors set to their boxes: steps holds
    (found, anchor, box), each (B, 1), one per step; an anchor is taken at most once."""
    batch, num_anchors = _shape(assigned)
    found, anchor, box = (ops.reshape(ops.concat(list(parts), 1), (-1,))
                          for parts in zip(*steps))
    first_anchor = ops.arange(batch, assigned) * num_anchors  # of each example, flat
    step_example = ops.reshape(ops.expand_dims(first_anchor, 1) + ops.full(
        (1, len(steps)), 0, "int64", assigned), (-1,))
    flat = ops.mask_rows(step_example + anchor, found)
    if not _shape(flat)[0]:
        return assigned
    return ops.reshape(ops.put(ops.reshape(assigned, (-1,)), flat, ops.mask_rows(box, found)),
                       (batch, num_anchors))


def offset_boxes(ops, anchors, assigned_bb, eps=1e-6):
    """Offsets (..., 4) of corner boxes `assigned_bb` from `anchors` (broadcasting):
    10 (c_box - c_anchor) / wh_anchor and 5 log(eps + wh_box / wh_anchor)."""
    check_boxes("offset_boxes", "anchors", anchors)
    check_boxes("offset_boxes", "assigned_bb", assigned_bb)
    with ops.scope(anchors):
        return _offsets(ops, _f32(ops, anchors), _f32(ops, assigned_bb), eps)


def _offsets(ops, anchors, boxes, eps):
    """Offsets (..., 4) of corner boxes from anchors (broadcasting), one coordinate at a
    time on contiguous planes."""
    ax, ay, aw, ah = _center_planes(ops, anchors)
    bx, by, bw, bh = _center_planes(ops, boxes)
    return ops.stack([10 * (bx - ax) / aw, 10 * (by - ay) / ah,
                      5 * ops.log(eps + bw / aw), 5 * ops.log(eps + bh / ah)], -1)


def offset_inverse(ops, anchors, offset_preds):
    """Corner boxes (..., 4) from offsets (..., 4) relative to `anchors` (broadcasting):
    centre = offset_xy · wh_anchor / 10 + c_anchor, wh = exp(offset_wh / 5) · wh_anchor."""
    check_boxes("offset_inverse", "anchors", anchors)
    check_boxes("offset_inverse", "offset_preds", offset_preds)
    with ops.scope(anchors):
        return _inverse(ops, _f32(ops, anchors), _f32(ops, offset_preds))


def _inverse(ops, anchors, offsets):
    c_anc = _to_center(ops, anchors)
    xy = offsets[..., :2] * c_anc[..., 2:] / 10 + c_anc[..., :2]
    wh = ops.exp(offsets[..., 2:] / 5) * c_anc[..., 2:]
    return _to_corner(ops, ops.concat([xy, wh], -1))


def _anchor_rows(fn, anchors):
    """Anchors (1, A, 4) or (A, 4) -> rank-2 (A, 4)."""
    check_boxes(fn, "anchors", anchors, min_rank=2, max_rank=3)
    shape = _shape(anchors)
    if len(shape) == 3 and shape[0] != 1:
        raise ValueError(f"{fn}: anchors must be (1, A, 4) or (A, 4), got shape {shape}")
    return anchors[0] if len(shape) == 3 else anchors


def multibox_target(ops, anchors, labels):
    """Training targets of anchors (1, A, 4) for labels (B, G, 5) rows (class, x1, y1, x2,
    y2): (offsets (B, 4A) float32, mask (B, 4A), class ids (B, A)). An anchor assigned to a
    box gets its class + 1, its offsets and mask 1 on its 4 coordinates; the others class 0,
    offsets 0, mask 0."""
    fn = "multibox_target"
    anchors = _anchor_rows(fn, anchors)
    check_boxes(fn, "labels", labels, last=5, min_rank=3, max_rank=3)
    with ops.scope(anchors):
        batch, num_gt = _shape(labels)[:2]
        labels, anchors = ops.cast(labels, "float32"), _f32(ops, anchors)
        assigned = _assign(ops, labels[..., 1:], anchors, 0.5)  # (B, A)
        found = assigned >= 0
        picked = _assigned_rows(ops, labels, assigned, found)
        classes = ops.where(found, ops.cast(picked[..., 0], "int64") + 1, 0)
        mask = ops.cast(ops.expand_dims(found, 2), "float32") * ops.full(
            (1, 1, 4), 1, "float32", anchors)
        offsets = _offsets(ops, ops.expand_dims(anchors, 0), picked[..., 1:], 1e-6) * mask
        return (ops.reshape(offsets, (batch, -1)),
                ops.cast(ops.reshape(mask, (batch, -1)), ops.mask_dtype),
                ops.cast(classes, ops.index_dtype))


def _assigned_rows(ops, labels, assigned, found):
    """(B, A, 5): for labels (B, G, 5) and each anchor's box index assigned (B, A) (found:
    assigned >= 0), the anchor's label row, zeros if none: one gather from the B G rows
    with a row of zeros appended."""
    batch, num_gt, width = _shape(labels)
    num_anchors = _shape(assigned)[1]
    table = ops.concat([ops.reshape(labels, (batch * num_gt, width)),
                        ops.full((1, width), 0, "float32", labels)], 0)
    first_row = ops.expand_dims(ops.arange(batch, labels) * num_gt, 1)  # (B, 1)
    index = ops.where(found, assigned + first_row, batch * num_gt)
    return ops.reshape(ops.take(table, ops.reshape(index, (-1,))),
                       (batch, num_anchors, width))


def nms(ops, boxes, scores, iou_threshold):
    """Indices (ops.index_dtype) of the boxes (N, 4) greedy NMS keeps, by decreasing score
    (equal scores: lower index first): a box is dropped when its IoU with a kept box of
    higher rank is > iou_threshold. A batch (B, N, 4), (B, N) gives a list of B results."""
    fn = "nms"
    check_boxes(fn, "boxes", boxes, min_rank=2, max_rank=3)
    checks.probability(fn, "iou_threshold", iou_threshold)
    if _shape(scores) != _shape(boxes)[:-1]:
        raise ValueError(f"{fn}: scores must have shape {_shape(boxes)[:-1]} (one per box), "
                         f"got {_shape(scores)}")
    with ops.scope(boxes):
        boxes, scores = _f32(ops, boxes), _f32(ops, scores)
        if len(_shape(boxes)) == 3:
            return [_kept(ops, boxes[i], scores[i], iou_threshold)  # one per example
                    for i in range(_shape(boxes)[0])]
        return _kept(ops, boxes, scores, iou_threshold)


def _kept(ops, boxes, scores, threshold):
    order, positions = _greedy(ops, boxes, scores, threshold)
    return ops.cast(ops.take(order, positions), ops.index_dtype)


def _greedy(ops, boxes, scores, threshold):
    """(order, positions): the stable descending score order, and the positions along it
    (ascending, int64) of the boxes greedy NMS keeps.

    Vectorized by blocks of NMS_BLOCK boxes in score order: a block's boxes overlapping a box
    already kept are dropped at once; among the rest (the candidates), keep_i = no kept
    candidate j < i overlaps i. That recurrence has one solution (by induction on i), which
    iterating it from `keep = all candidates` reaches: each pass settles at least one more box.
    """
    order = ops.argsort(-scores)
    n = _shape(boxes)[0]
    ranked = ops.take(boxes, order)
    rank = ops.arange(n, boxes)
    parts, kept = [], None
    earlier = ops.tensor(np.triu(np.ones((NMS_BLOCK, NMS_BLOCK), bool), 1), boxes)  # j < i
    for start in range(0, n, NMS_BLOCK):
        block, where = ranked[start:start + NMS_BLOCK], rank[start:start + NMS_BLOCK]
        if kept is not None and _shape(kept)[0]:
            candidate = ops.logical_not(ops.any(ops.iou(block, kept) > threshold, 1))
            block, where = ops.mask_rows(block, candidate), ops.mask_rows(where, candidate)
        k = _shape(block)[0]
        if k == 0:
            continue
        beats = ops.logical_and(_iou(ops, block, block) > threshold,
                                earlier[:k, :k])
        keep = ops.full((k,), True, "bool", boxes)
        while True:
            settled = ops.logical_not(ops.any(ops.logical_and(beats, ops.expand_dims(keep, 1)),
                                              0))
            if ops.same(settled, keep):
                break
            keep = settled
        parts.append(ops.mask_rows(where, keep))
        survivors = ops.mask_rows(block, keep)
        kept = survivors if kept is None else ops.concat([kept, survivors], 0)
    return order, ops.concat(parts, 0) if parts else rank[:0]


def multibox_detection(ops, cls_probs, offset_preds, anchors, nms_threshold=0.5,
                       pos_threshold=0.009999999):
    """Detections (B, A, 6) float32 rows (class id, confidence, x1, y1, x2, y2) from class
    probabilities (B, num_classes + 1, A) (background first), offsets (B, 4A) and anchors
    (1, A, 4). Per example: the best non-background class and its probability, boxes from
    the offsets, greedy NMS on them; rows in NMS order (kept, by decreasing confidence,
    then the others by index); class -1 for boxes NMS drops and, with confidence 1 - p, for
    those below pos_threshold."""
    fn = "multibox_detection"
    anchors = _anchor_rows(fn, anchors)
    num_anchors = _shape(anchors)[0]
    shape = _shape(cls_probs)
    if len(shape) != 3 or shape[2] != num_anchors or shape[1] < 2:
        raise ValueError(f"{fn}: cls_probs must be (batch, num_classes + 1, {num_anchors}) "
                         f"with at least one class, got shape {shape}")
    if _shape(offset_preds) != (shape[0], 4 * num_anchors):
        raise ValueError(f"{fn}: offset_preds must have shape {(shape[0], 4 * num_anchors)}, "
                         f"got {_shape(offset_preds)}")
    checks.probability(fn, "nms_threshold", nms_threshold)
    checks.real_number(fn, "pos_threshold", pos_threshold)
    with ops.scope(cls_probs):
        cls_probs, anchors = _f32(ops, cls_probs), _f32(ops, anchors)
        offset_preds = _f32(ops, offset_preds)
        foreground = cls_probs[:, 1:, :]
        conf, class_id = ops.max_argmax(foreground, 1)  # (B, A)
        boxes = _inverse(ops, ops.expand_dims(anchors, 0),
                         ops.reshape(offset_preds, (shape[0], num_anchors, 4)))
        ids = ops.arange(num_anchors, anchors)
        out = []
        for i in range(shape[0]):
            order, positions = _greedy(ops, boxes[i], conf[i], nms_threshold)
            kept = ops.take(order, positions)
            in_place = ops.mark(kept, num_anchors)  # kept?, by anchor index
            rows = ops.concat([kept, ops.mask_rows(ids, ops.logical_not(in_place))], 0)
            label = ops.cast(ops.where(in_place, class_id[i], -1), "float32")
            p = conf[i]
            low = p < pos_threshold
            label = ops.where(low, -1.0, label)
            p = ops.where(low, 1 - p, p)
            table = ops.concat([ops.expand_dims(label, 1), ops.expand_dims(p, 1), boxes[i]], 1)
            out.append(ops.take(table, rows))
        return ops.stack(out, 0) if out else ops.reshape(boxes, (0, num_anchors, 6))


def show_bboxes(axes, bboxes, labels=None, colors=None):
    """Draw corner boxes (a tensor of any framework or a sequence of 4-number boxes) on
    matplotlib `axes`, colours cycling through `colors` (default 'b', 'g', 'r', 'm', 'c'),
    with labels[i] (if given) at box i's top-left corner on a box of its colour."""
    def as_list(obj, default=None):
        if obj is None:
            return default
        return [obj] if not isinstance(obj, (list, tuple)) else list(obj)

    labels = as_list(labels)
    colors = as_list(colors, ["b", "g", "r", "m", "c"])
    for i, bbox in enumerate(bboxes):
        color = colors[i % len(colors)]
        rect = bbox_to_rect(to_numpy(bbox), color)
        axes.add_patch(rect)
        if labels and len(labels) > i:
            text_color = "k" if color == "w" else "w"
            axes.text(rect.xy[0], rect.xy[1], labels[i], va="center", ha="center",
                      fontsize=9, color=text_color, bbox=dict(facecolor=color, lw=0))


def bind(ops, *functions):
    """The given functions with `ops` filled in as their first argument, with the book's
    signatures (`box_iou(boxes1, boxes2)`)."""
    from .alias_based import bind as bind_first

    return bind_first(ops, *functions)


def aligned_empty(shape, dtype, align=64):
    """np.empty(shape, dtype) whose data starts on an `align`-byte boundary, so that a
    backend that demands it (TensorFlow) can take the memory of a large result as it is."""
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    buffer = np.empty(nbytes + align, np.uint8)
    start = -buffer.ctypes.data % align
    return buffer[start:start + nbytes].view(dtype).reshape(shape)


@functools.cache
def _host_threads():
    """(pool, size): one thread per CPU this process may use, for NumPy work on disjoint rows
    (NumPy releases the GIL inside its loops, so the rows really are done side by side)."""
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    size = len(usable) if usable else os.cpu_count() or 1
    return ThreadPoolExecutor(size, thread_name_prefix="d2l-boxes"), size


def for_ranges(fill, n, step):
    """fill(lo, hi) over rows [0, n) cut into at most one run of whole `step`s per host
    thread, the runs side by side; each call must write only its own rows. Returns when all
    are done (an error in any is raised here)."""
    pool, size = _host_threads()
    blocks = -(-n // step)
    if min(size, blocks) <= 1:
        fill(0, n)
        return
    per = -(-blocks // size) * step
    for _ in pool.map(lambda lo: fill(lo, min(lo + per, n)), range(0, n, per)):
        pass


class NumpyOps(BoxOps):
    """The vocabulary on NumPy arrays (float32 math is IEEE math there too): a backend whose
    own CPU kernels are slow runs the algorithms here for CPU tensors. `index_dtype` and
    `mask_dtype` are the backend's; `channels_last`: its feature maps are (..., H, W, C)."""

    def __init__(self, index_dtype, mask_dtype, channels_last=False):
        self.index_dtype, self.mask_dtype = index_dtype, mask_dtype
        self.channels_last = channels_last

    def feature_hw(self, data):
        layout = "(..., H, W, channels)" if self.channels_last else "(..., H, W)"
        if data.ndim < (3 if self.channels_last else 2):
            raise ValueError(f"multibox_prior: data must be {layout}, got shape {data.shape}")
        return tuple(data.shape[-3:-1] if self.channels_last else data.shape[-2:])

    tensor = staticmethod(lambda array, like: np.asarray(array))
    full = staticmethod(lambda shape, value, dtype, like: np.full(shape, value, dtype))
    arange = staticmethod(lambda n, like: np.arange(n, dtype=np.int64))
    is_cpu = staticmethod(lambda x: True)
    maximum, minimum, log, exp, matmul = (staticmethod(f) for f in (
        np.maximum, np.minimum, np.log, np.exp, np.matmul))
    logical_and, logical_or, logical_not, where = (staticmethod(f) for f in (
        np.logical_and, np.logical_or, np.logical_not, np.where))
    reshape, expand_dims = staticmethod(np.reshape), staticmethod(np.expand_dims)
    stack = staticmethod(lambda xs, axis: np.stack(xs, axis))
    concat = staticmethod(lambda xs, axis: np.concatenate(xs, axis))
    relu = staticmethod(lambda x: np.maximum(x, x.dtype.type(0)))
    any = staticmethod(lambda x, axis: x.any(axis))
    coords = staticmethod(lambda x: [x[..., k].copy() for k in range(4)])
    take = staticmethod(lambda x, index: x[index])
    mask_rows = staticmethod(lambda x, mask: x[mask])
    cast = staticmethod(lambda x, dtype: x.astype(dtype, copy=False))
    floating = staticmethod(lambda x: x if x.dtype.kind == "f" else x.astype(np.float32))
    argsort = staticmethod(lambda x: np.argsort(x, kind="stable"))
    same = staticmethod(lambda a, b: bool(np.array_equal(a, b)))

    def iou(self, boxes1, boxes2):
        return _iou_in_place(self, boxes1, boxes2)

    empty = staticmethod(lambda shape, like, dtype="float32": aligned_empty(shape, dtype))
    add, subtract, multiply = (staticmethod(f) for f in (np.add, np.subtract, np.multiply))
    relu_ = staticmethod(lambda x: np.maximum(x, x.dtype.type(0), out=x))
    in_ranges = staticmethod(lambda fill, n, step: for_ranges(fill, n, step))

    @staticmethod
    def divide_where_positive_(num, den):
        np.divide(num, den, out=num, where=den > 0)  # elsewhere num / 1, as it is

    @staticmethod
    def max_argmax(x, axis):
        """The maxima along `axis` and the first index reaching each (a NaN counts as the
        largest, as argmax has it). Along another axis than the last, the first index is
        the smallest of index + n·(not a maximum): NumPy's argmax walks such an axis one
        short row at a time (5 ms for the (32, 10, 5000) IoUs of multibox_target; under 1 ms
        this way)."""
        top = x.max(axis)
        axis %= x.ndim
        if axis == x.ndim - 1:
            return top, x.argmax(axis)
        hit = x == np.expand_dims(top, axis)
        if x.dtype.kind == "f" and np.isnan(top).any():
            hit |= np.isnan(x)
        n = x.shape[axis]
        code = np.min_scalar_type(2 * n)
        index = np.multiply(np.logical_not(hit), n, dtype=code)
        index += np.arange(n, dtype=code).reshape((-1,) + (1,) * (x.ndim - axis - 1))
        return top, index.min(axis).astype(np.int64)

    @staticmethod
    def multiply_add(a, b, c):
        """a + b * c into one new (aligned) array, in row blocks of about IOU_CHUNK elements
        on the host threads, each block multiplied and added while it is in the cache."""
        out = aligned_empty(np.broadcast_shapes(a.shape, b.shape, c.shape),
                            np.result_type(a, b, c))
        if out.ndim == 0:
            return np.add(a, np.multiply(b, c, out=out), out=out)
        a, b, c = (np.broadcast_to(x, out.shape) for x in (a, b, c))
        step = max(1, IOU_CHUNK // max(math.prod(out.shape[1:]), 1))

        def fill(lo, hi):
            for i in range(lo, hi, step):
                rows = slice(i, min(i + step, hi))
                np.multiply(b[rows], c[rows], out=out[rows])
                np.add(out[rows], a[rows], out=out[rows])

        for_ranges(fill, out.shape[0], step)
        return out

    @staticmethod
    def mark(index, n):
        marks = np.zeros(n, dtype=bool)
        marks[index] = True
        return marks


# Whether host_or_device runs CPU tensors through NumpyOps (tests switch it off to check the
# backends' own ops on the CPU).
HOST_ON_CPU = True


def host_or_device(fn, device_ops, host_ops, is_tensor, on_cpu, to_backend, shape_only=()):
    """`fn` with the book's signature: on NumPy (`host_ops`) when every tensor argument is on
    the CPU and HOST_ON_CPU is set, else on the backend's `device_ops`. `to_backend(array,
    like)` brings a NumPy result back as a tensor on like's device; the arguments named in
    `shape_only` are read for their shape only, and so are not copied to the host. For
    backends whose CPU kernels or eager dispatch make these many-small-op algorithms slow;
    the float32 results are the same either way (IEEE arithmetic; log and exp within an ulp
    or two)."""
    on_device, = bind(device_ops, fn)
    names = list(inspect.signature(fn).parameters)[1:]  # after ops

    def host(name, value):
        if not is_tensor(value):
            return value
        if name in shape_only:  # a read-only zero-strided array of that shape
            return np.broadcast_to(np.float32(0), tuple(value.shape))
        return to_numpy(value)

    @functools.wraps(on_device)
    def call(*args, **kwargs):
        tensors = [a for a in (*args, *kwargs.values()) if is_tensor(a)]
        if not (HOST_ON_CPU and tensors and all(on_cpu(a) for a in tensors)):
            return on_device(*args, **kwargs)
        positional = [host(names[i] if i < len(names) else None, a)
                      for i, a in enumerate(args)]  # too many: fn raises its TypeError
        out = fn(host_ops, *positional, **{name: host(name, a) for name, a in kwargs.items()})
        return _back(out, tensors[0], to_backend)

    return call


def _back(out, like, to_backend):
    if isinstance(out, (list, tuple)):
        return type(out)(_back(o, like, to_backend) for o in out)
    return to_backend(out, like)
