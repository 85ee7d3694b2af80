"""Chapter 13.3-13.4: bounding boxes, anchor boxes, anchor labelling, non-maximum suppression
and detection.

The NumPy references below are the book's algorithms written plainly (loops over boxes,
pairs and examples) in float32, each float operation in the order the spec states, so the
backends must match them exactly where a decision depends on a float (IoU > threshold) and
within a few ulps where `log` / `exp` enter. Boxes are drawn on a 1/16 grid of [0, 2] (areas
and IoUs then exact) and include zero-area boxes, copies of earlier boxes and boxes that
touch an earlier one at an edge.
"""

import math

import numpy as np
from hypothesis import strategies as st

from .entry import EXACT, Entry, Invalid, Reject, Tol

F = np.float32
OFFSET_TOL = Tol(1e-5, 1e-5)  # log and exp differ by an ulp or two between frameworks
INDEX_DTYPES = {"mxnet": "int32", "torch": "int64", "tensorflow": "int32"}
MASK_DTYPES = {"mxnet": "int32", "torch": "float32", "tensorflow": "float32"}


# --- references ---------------------------------------------------------------------------

def corner_to_center(boxes):
    b = np.asarray(boxes, F)
    x1, y1, x2, y2 = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    return np.stack([(x1 + x2) / F(2), (y1 + y2) / F(2), x2 - x1, y2 - y1], -1)


def center_to_corner(boxes):
    b = np.asarray(boxes, F)
    cx, cy, w, h = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    half = F(0.5)
    return np.stack([cx - half * w, cy - half * h, cx + half * w, cy + half * h], -1)


def pair_iou(a, b):
    """IoU of two corner boxes in float32: inverted boxes are empty, an empty union gives 0."""
    a, b = np.asarray(a, F), np.asarray(b, F)
    zero = F(0)
    w = max(min(a[2], b[2]) - max(a[0], b[0]), zero)
    h = max(min(a[3], b[3]) - max(a[1], b[1]), zero)
    inter = w * h
    area_a = max(a[2] - a[0], zero) * max(a[3] - a[1], zero)
    area_b = max(b[2] - b[0], zero) * max(b[3] - b[1], zero)
    union = (area_a + area_b) - inter
    return inter / union if union > 0 else zero


def box_iou(boxes1, boxes2):
    """(..., N1, 4) x (..., N2, 4) -> (..., N1, N2), pair by pair (leading axes broadcast)."""
    b1, b2 = np.asarray(boxes1, F), np.asarray(boxes2, F)
    lead = np.broadcast_shapes(b1.shape[:-2], b2.shape[:-2])
    b1 = np.broadcast_to(b1, lead + b1.shape[-2:])
    b2 = np.broadcast_to(b2, lead + b2.shape[-2:])
    out = np.zeros(lead + (b1.shape[-2], b2.shape[-2]), F)
    for idx in np.ndindex(*lead):
        for i, a in enumerate(b1[idx]):
            for j, b in enumerate(b2[idx]):
                out[idx + (i, j)] = pair_iou(a, b)
    return out


def multibox_prior(height, width, sizes, ratios):
    """(1, H * W * (n + m - 1), 4): for each pixel (y outer, x inner) its anchors (s_i, r_0),
    then (s_0, r_j); centre ((x + 0.5) / W, (y + 0.5) / H), half-width s √r H / W / 2,
    half-height s / √r / 2 (centre and half sizes rounded to float32 once, then added)."""
    pairs = [(s, ratios[0]) for s in sizes] + [(sizes[0], r) for r in ratios[1:]]
    rows = []
    for y in range(height):
        cy = F((y + 0.5) / height)
        for x in range(width):
            cx = F((x + 0.5) / width)
            for s, r in pairs:
                hw = F(s * math.sqrt(r) * height / width / 2)
                hh = F(s / math.sqrt(r) / 2)
                rows.append([cx - hw, cy - hh, cx + hw, cy + hh])
    return np.asarray(rows, F).reshape(1, -1, 4)


def assign(ground_truth, anchors, iou_threshold=0.5):
    """The book's assignment for one example: (A,) box index or -1."""
    gt, anchors = np.asarray(ground_truth, F), np.asarray(anchors, F)
    J = np.array([[pair_iou(a, g) for g in gt] for a in anchors], F).reshape(len(anchors),
                                                                              len(gt))
    out = np.full(len(anchors), -1, np.int64)
    for i in range(len(anchors)):
        if len(gt) and J[i].max() >= iou_threshold:
            out[i] = int(np.argmax(J[i]))
    for _ in range(len(gt)):
        if J.size == 0 or J.max() < 0:  # every row or column has been discarded
            break
        i, j = divmod(int(np.argmax(J)), len(gt))
        out[i] = j
        J[i, :] = -1
        J[:, j] = -1
    return out


def offset_boxes(anchors, assigned_bb, eps=1e-6):
    c_anc, c_box = corner_to_center(anchors), corner_to_center(assigned_bb)
    xy = F(10) * (c_box[..., :2] - c_anc[..., :2]) / c_anc[..., 2:]
    wh = F(5) * np.log(F(eps) + c_box[..., 2:] / c_anc[..., 2:])
    return np.concatenate([xy, wh], -1).astype(F)


def offset_inverse(anchors, offset_preds):
    c_anc, off = corner_to_center(anchors), np.asarray(offset_preds, F)
    xy = off[..., :2] * c_anc[..., 2:] / F(10) + c_anc[..., :2]
    wh = np.exp(off[..., 2:] / F(5)) * c_anc[..., 2:]
    return center_to_corner(np.concatenate([xy, wh], -1))


def multibox_target(anchors, labels):
    """(offsets (B, 4A), mask (B, 4A), class ids (B, A)), example by example, anchor by
    anchor."""
    anchors = np.asarray(anchors, F).reshape(-1, 4)
    labels = np.asarray(labels, F)
    offsets, masks, classes = [], [], []
    for example in labels:
        assigned = assign(example[:, 1:], anchors)
        off = np.zeros((len(anchors), 4), F)
        mask = np.zeros((len(anchors), 4), F)
        cls = np.zeros(len(anchors), np.int64)
        for i, j in enumerate(assigned):
            if j >= 0:
                cls[i] = int(example[j, 0]) + 1
                mask[i] = 1
                off[i] = offset_boxes(anchors[i], example[j, 1:])
        offsets.append(off.reshape(-1))
        masks.append(mask.reshape(-1))
        classes.append(cls)
    return [np.asarray(offsets, F), np.asarray(masks, F), np.asarray(classes)]


def nms(boxes, scores, iou_threshold):
    """The book's greedy NMS; equal scores keep their index order."""
    boxes, scores = np.asarray(boxes, F), np.asarray(scores, F)
    order = list(np.argsort(-scores, kind="stable"))
    keep = []
    while order:
        i, rest = order[0], order[1:]
        keep.append(i)
        order = [j for j in rest if not pair_iou(boxes[i], boxes[j]) > iou_threshold]
    return np.asarray(keep, np.int64)


def multibox_detection(cls_probs, offset_preds, anchors, nms_threshold=0.5,
                       pos_threshold=0.009999999):
    cls_probs, anchors = np.asarray(cls_probs, F), np.asarray(anchors, F).reshape(-1, 4)
    out = []
    for probs, offsets in zip(cls_probs, np.asarray(offset_preds, F)):
        conf, class_id = probs[1:].max(0), probs[1:].argmax(0)
        boxes = offset_inverse(anchors, offsets.reshape(-1, 4))
        keep = list(nms(boxes, conf, nms_threshold))
        rest = [i for i in range(len(anchors)) if i not in keep]
        rows = []
        for i in keep + rest:
            label, p = (float(class_id[i]) if i in keep else -1.0), conf[i]
            if p < F(pos_threshold):
                label, p = -1.0, F(1) - p
            rows.append([label, p, *boxes[i]])
        out.append(rows)
    return np.asarray(out, F).reshape(len(cls_probs), len(anchors), 6)


# --- hypothesis draws ---------------------------------------------------------------------

GRID = 16  # coordinates k / 16 in [0, 2]


@st.composite
def box_sets(draw, min_n=0, max_n=6, lead=(), flat=True):
    """Corner boxes (*lead, n, 4) on the grid: random ones, zero-area ones (unless `flat` is
    False), copies of an earlier box and boxes touching an earlier one at an edge."""
    n = draw(st.integers(min_n, max_n))
    coord = st.integers(0, 2 * GRID)
    out = np.zeros(lead + (n, 4), F)
    for idx in np.ndindex(*lead, n):
        *head, i = idx
        earlier = out[tuple(head)][:i]
        kind = draw(st.sampled_from(["box", "box", "flat", "copy", "touch"] if flat
                                    else ["box", "box", "copy", "touch"]))
        x1, y1 = draw(coord), draw(coord)
        x2, y2 = x1 + draw(st.integers(1, GRID)), y1 + draw(st.integers(1, GRID))
        box = np.array([x1, y1, x2, y2], F) / F(GRID)
        if kind == "flat":
            box[draw(st.sampled_from([2, 3]))] = box[0] if draw(st.booleans()) else box[1]
            box[2], box[3] = max(box[2], box[0]), max(box[3], box[1])
        elif kind in ("copy", "touch") and len(earlier):
            box = earlier[draw(st.integers(0, len(earlier) - 1))].copy()
            if kind == "touch":
                width = box[2] - box[0]
                box[[0, 2]] = box[[0, 2]] + width  # shares the edge x = old x2
        out[idx] = box
    return out


@st.composite
def _single_boxes(draw):
    lead = draw(st.sampled_from([(), (2,)]))
    return (draw(box_sets(1, 6, lead)),)


@st.composite
def _center_boxes(draw):
    """Centre-form boxes (..., 4) with non-negative sizes on the grid."""
    corners = draw(box_sets(1, 6, draw(st.sampled_from([(), (2,)]))))
    return (corner_to_center(corners),)


@st.composite
def _iou_inputs(draw):
    lead = draw(st.sampled_from([(), (2,)]))
    return draw(box_sets(1, 5, lead)), draw(box_sets(1, 5, lead))


@st.composite
def _iou_edges(draw):
    """Empty sets, one box, and a wrong last axis or rank (ValueError naming the set)."""
    case = draw(st.sampled_from(["empty", "one", "boxes1", "boxes2"]))
    b1, b2 = draw(box_sets(0 if case == "empty" else 1, 2)), draw(box_sets(1, 2))
    if case == "boxes1":
        b1 = draw(st.sampled_from([np.zeros((2, 5), F), np.zeros(4, F)]))
    elif case == "boxes2":
        b2 = np.zeros((1, 3), F)
    return b1, b2


def _iou_edge_reference(boxes1, boxes2):
    for name, b in (("boxes1", boxes1), ("boxes2", boxes2)):
        if b.ndim < 2 or b.shape[-1] != 4:
            raise Invalid(name)
    return box_iou(boxes1, boxes2)


@st.composite
def _prior_inputs(draw):
    height, width = draw(st.integers(1, 5)), draw(st.integers(1, 6))
    sizes = draw(st.lists(st.sampled_from([0.1, 0.25, 0.5, 0.75, 1.0, 1.5]), min_size=1,
                          max_size=3))
    ratios = draw(st.lists(st.sampled_from([0.5, 1.0, 2.0, 3.0, 0.3]), min_size=1,
                           max_size=3))
    return height, width, sizes, ratios


def _prior_call(b, height, width, sizes, ratios):
    data = b.images(np.zeros((2, 3, height, width), F))
    return b.numpy(b.d2l.multibox_prior(data, sizes, ratios))


@st.composite
def _prior_edges(draw):
    height, width, sizes, ratios = draw(_prior_inputs())
    case = draw(st.sampled_from(["ok", "sizes", "ratios"]))
    bad = st.sampled_from([[-0.5], [0.0], [], [float("nan")], [0.5, -1.0], [float("inf")]])
    if case == "sizes":
        sizes = draw(bad)
    elif case == "ratios":
        ratios = draw(bad)
    return height, width, sizes, ratios


def _prior_edge_reference(height, width, sizes, ratios):
    for name, values in (("sizes", sizes), ("ratios", ratios)):
        if not values or not all(math.isfinite(v) and v > 0 for v in values):
            raise Invalid(name)
    return multibox_prior(height, width, sizes, ratios)


@st.composite
def _assign_inputs(draw):
    """Ground truth (G, 4) or a batch (2, G, 4), anchors (A, 4), a threshold (at most as many
    boxes as anchors, or more)."""
    lead = draw(st.sampled_from([(), (2,)]))
    gt = draw(box_sets(0, 4, lead))
    anchors = draw(box_sets(1, 7))
    return gt, anchors, draw(st.sampled_from([0.5, 0.5, 0.0, 0.3, 1.0]))


def _assign_reference(gt, anchors, threshold):
    if gt.ndim == 3:
        return np.stack([assign(g, anchors, threshold) for g in gt])
    return assign(gt, anchors, threshold)


def _assign_call(b, gt, anchors, threshold):
    return b.numpy(b.d2l.assign_anchor_to_bbox(b.tensor(gt), b.tensor(anchors), b.device,
                                               iou_threshold=threshold))


@st.composite
def _assign_edges(draw):
    gt, anchors, threshold = draw(_assign_inputs())
    threshold = draw(st.sampled_from([threshold, -0.1, 1.5, float("nan")]))
    return gt, anchors, threshold


def _assign_edge_reference(gt, anchors, threshold):
    if not 0 <= threshold <= 1:
        raise Invalid("iou_threshold")
    return _assign_reference(gt, anchors, threshold)


@st.composite
def _offset_inputs(draw):
    """Anchors with positive sizes and boxes of one shape (..., 4)."""
    lead = draw(st.sampled_from([(), (2,)]))
    n = draw(st.integers(1, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    shape = lead + (n,)
    anchors = _random_corners(rng, shape, 0.05)
    boxes = _random_corners(rng, shape, 0.0)
    return anchors, boxes


def _random_corners(rng, shape, min_side):
    xy = rng.uniform(0, 1, shape + (2,))
    wh = rng.uniform(min_side, 0.8, shape + (2,))
    return np.concatenate([xy, xy + wh], -1).astype(F)


def _box_call(name):
    def call(b, *args):
        return b.numpy(getattr(b.d2l, name)(*(b.tensor(a) for a in args)))
    return call


@st.composite
def _inverse_inputs(draw):
    anchors, _ = draw(_offset_inputs())
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    return anchors, rng.normal(0, 1, anchors.shape).astype(F)


@st.composite
def _target_inputs(draw):
    """Anchors (1, A, 4) (grid boxes of positive area: offsets divide by their sizes) and
    labels (B, G, 5) with classes 0-2."""
    anchors = draw(box_sets(1, 8, flat=False)).reshape(1, -1, 4)
    batch, num_gt = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    boxes = draw(box_sets(num_gt, num_gt, (batch,)))
    classes = np.asarray(draw(st.lists(st.integers(0, 2), min_size=batch * num_gt,
                                       max_size=batch * num_gt)), F).reshape(batch, num_gt, 1)
    return anchors, np.concatenate([classes, boxes], -1)


def _target_call(b, anchors, labels):
    return [b.numpy(t) for t in b.d2l.multibox_target(b.tensor(anchors), b.tensor(labels))]


@st.composite
def _nms_inputs(draw):
    """Grid boxes (N, 4) or a batch (2, N, 4), scores with ties, a threshold."""
    lead = draw(st.sampled_from([(), (), (2,)]))
    boxes = draw(box_sets(0, 10, lead))
    scores = np.asarray(draw(st.lists(st.sampled_from([0.1, 0.3, 0.5, 0.7, 0.9]),
                                      min_size=boxes.size // 4, max_size=boxes.size // 4)),
                        F).reshape(boxes.shape[:-1])
    return boxes, scores, draw(st.sampled_from([0.5, 0.0, 0.3, 0.75, 1.0]))


def _nms_reference(boxes, scores, threshold):
    if boxes.ndim == 3:
        return [nms(b, s, threshold) for b, s in zip(boxes, scores)]
    return nms(boxes, scores, threshold)


def _nms_call(b, boxes, scores, threshold):
    kept = b.d2l.nms(b.tensor(boxes), b.tensor(scores), threshold)
    return [b.numpy(k) for k in kept] if isinstance(kept, list) else b.numpy(kept)


@st.composite
def _nms_edges(draw):
    boxes, scores, threshold = draw(_nms_inputs())
    threshold = draw(st.sampled_from([threshold, -0.5, 1.01, float("nan")]))
    return boxes, scores, threshold


def _nms_edge_reference(boxes, scores, threshold):
    if not 0 <= threshold <= 1:
        raise Invalid("iou_threshold")
    return _nms_reference(boxes, scores, threshold)


@st.composite
def _detection_inputs(draw):
    """Probabilities (B, C + 1, A) with ties and some below the positive threshold, offsets
    (B, 4A) (sizes unchanged or scaled), anchors (1, A, 4) on the grid."""
    anchors = draw(box_sets(1, 8)).reshape(1, -1, 4)
    num_anchors = anchors.shape[1]
    batch, classes = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    probs = rng.choice(np.array([0.005, 0.2, 0.4, 0.6, 0.8], F),
                       (batch, classes + 1, num_anchors))
    offsets = rng.normal(0, 0.5, (batch, num_anchors, 4)).astype(F)
    if draw(st.booleans()):
        offsets[..., 2:] = 0
    return (probs, offsets.reshape(batch, -1), anchors,
            draw(st.sampled_from([0.5, 0.3, 0.0, 1.0])))


def _detection_call(b, probs, offsets, anchors, threshold):
    return b.numpy(b.d2l.multibox_detection(b.tensor(probs), b.tensor(offsets),
                                            b.tensor(anchors), nms_threshold=threshold))


def _rect_probe(b):
    rect = b.d2l.bbox_to_rect([60.0, 45.0, 378.0, 516.0], "blue")
    return [list(rect.get_xy()), rect.get_width(), rect.get_height(), rect.get_fill(),
            rect.get_linewidth(), list(rect.get_edgecolor())]


def _show_probe(b):
    import matplotlib.pyplot as plt

    fig = plt.figure()
    axes = fig.add_subplot()
    boxes = b.tensor(np.array([[0.1, 0.2, 0.5, 0.6], [0.3, 0.3, 0.9, 0.8],
                               [0.0, 0.0, 0.2, 0.1]], F))
    b.d2l.show_bboxes(axes, boxes, ["dog", "cat"], ["w", "r"])
    b.d2l.show_bboxes(axes, boxes[:1], "one", "g")
    rects = [[*p.get_xy(), p.get_width(), p.get_height(), list(p.get_edgecolor())]
             for p in axes.patches]
    texts = [[t.get_text(), *t.get_position(), t.get_color(), t.get_fontsize()]
             for t in axes.texts]
    plt.close(fig)
    return [rects, texts]


def _show_expect():
    from matplotlib.colors import to_rgba

    def rect(x1, y1, x2, y2, c):
        return [x1, y1, x2 - x1, y2 - y1, list(to_rgba(c))]

    rects = [rect(*map(float, F([0.1, 0.2, 0.5, 0.6])), "w"),
             rect(*map(float, F([0.3, 0.3, 0.9, 0.8])), "r"),
             rect(*map(float, F([0.0, 0.0, 0.2, 0.1])), "w"),
             rect(*map(float, F([0.1, 0.2, 0.5, 0.6])), "g")]
    texts = [["dog", float(F(0.1)), float(F(0.2)), "k", 9.0],
             ["cat", float(F(0.3)), float(F(0.3)), "w", 9.0],
             ["one", float(F(0.1)), float(F(0.2)), "w", 9.0]]
    return [rects, texts]


def _zeros(*shape):
    return lambda b: b.tensor(np.zeros(shape, F))


ENTRIES = [
    Entry("box_corner_to_center", "13.3", "box_corner_to_center(boxes)",
          "(..., 4) corners (x1, y1, x2, y2) -> (cx, cy, w, h): cx = (x1 + x2) / 2, w = x2 - x1 "
          "(same for y), float32 math. Extension: any leading axes (upstream: 2-D only); a "
          "last axis other than 4: ValueError naming boxes.",
          reference=corner_to_center, inputs=_single_boxes,
          call=_box_call("box_corner_to_center"), tol=EXACT,
          rejects=(Reject("5 numbers per box", lambda b: (_zeros(3, 5)(b),), match="boxes"),)),
    Entry("box_center_to_corner", "13.3", "box_center_to_corner(boxes)",
          "(..., 4) (cx, cy, w, h) -> corners: x1 = cx - 0.5 w, x2 = cx + 0.5 w (same for y); "
          "the inverse of box_corner_to_center.",
          reference=center_to_corner, inputs=_center_boxes,
          call=_box_call("box_center_to_corner"), tol=EXACT,
          rejects=(Reject("3 numbers per box", lambda b: (_zeros(2, 3)(b),), match="boxes"),)),
    Entry("bbox_to_rect", "13.3", "bbox_to_rect(bbox, color)",
          "plt.Rectangle(xy=(x1, y1), width=x2 - x1, height=y2 - y1, fill=False, "
          "edgecolor=color, linewidth=2) of a corner box (any indexable of 4 numbers or a "
          "tensor). Written once in d2l.common.boxes.",
          probe=_rect_probe,
          expect=lambda: [[60.0, 45.0], 318.0, 471.0, False, 2.0, [0.0, 0.0, 1.0, 1.0]]),
    Entry("multibox_prior", "13.4", "multibox_prior(data, sizes, ratios)",
          "Anchors (1, H W (n + m - 1), 4) of a feature map data (M, P: (..., H, W); T: "
          "channels-last (..., H, W, C)), on its device: per pixel (y outer, x inner) the pairs "
          "(s_i, r_0) then (s_0, r_j); centre ((x + 0.5) / W, (y + 0.5) / H), half-width "
          "s √r H / W / 2 (square in pixels: Keep), half-height s / √r / 2. Centres and half "
          "sizes are computed in float64 and rounded once (upstream multiplied float32 "
          "steps), so anchors are exact to float32. sizes and ratios must be non-empty lists "
          "of positive finite numbers (ValueError naming them).",
          reference=_prior_edge_reference, inputs=_prior_inputs, call=_prior_call,
          edges=_prior_edges, tol=EXACT,
          rejects=(Reject("negative size", lambda b: (_zeros(1, 3, 4, 4)(b), [-0.5], [1]),
                          match="sizes"),
                   Reject("negative ratio", lambda b: (_zeros(1, 3, 4, 4)(b), [0.5], [-1]),
                          match="ratios"),
                   Reject("no ratios", lambda b: (_zeros(1, 3, 4, 4)(b), [0.5], []),
                          match="ratios"))),
    Entry("show_bboxes", "13.4", "show_bboxes(axes, bboxes, labels=None, colors=None)",
          "Draws bbox_to_rect of each box with colours cycling through colors (default "
          "b, g, r, m, c; a single value is wrapped in a list) and labels[i] at box i's "
          "top-left corner (centred, font size 9, white text, black on a white box). Written "
          "once in d2l.common.boxes.",
          probe=_show_probe, expect=_show_expect),
    Entry("box_iou", "13.4", "box_iou(boxes1, boxes2)",
          "IoU (..., N1, N2) of corner boxes (..., N1, 4) and (..., N2, 4) (leading axes "
          "broadcast; upstream: 2-D only), in float32: intersection (sides clipped at 0) / "
          "(area1 + area2 - intersection). Fix: a box with x2 < x1 or y2 < y1 has area 0 "
          "(upstream: a negative area), and a pair whose union is 0 (two zero-area boxes) has "
          "IoU 0 (upstream: NaN). A last axis other than 4 or a rank below 2: ValueError "
          "naming the argument.",
          reference=_iou_edge_reference, inputs=_iou_inputs, call=_box_call("box_iou"),
          edges=_iou_edges, tol=EXACT,
          rejects=(Reject("3 numbers per box", lambda b: (_zeros(2, 4)(b), _zeros(2, 3)(b)),
                          match="boxes2"),)),
    Entry("assign_anchor_to_bbox", "13.4",
          "assign_anchor_to_bbox(ground_truth, anchors, device, iou_threshold=0.5)",
          "(A,) index of the ground-truth box (G, 4) each anchor (A, 4) gets, or -1 (M, T "
          "int32; P int64), on device; a batch (B, G, 4) gives (B, A). Anchors whose best "
          "IoU >= iou_threshold take that box; then, once per box, the largest remaining IoU "
          "(first in row-major order among equal ones) assigns its anchor to its box and "
          "removes that row and column. Fixes: iou_threshold is used (upstream always 0.5), "
          "must lie in [0, 1] (ValueError naming it); once every row or column is removed "
          "(more boxes than anchors) nothing more is assigned (upstream reassigned anchor 0 "
          "to box 0).",
          reference=_assign_edge_reference, inputs=_assign_inputs, call=_assign_call,
          edges=_assign_edges, tol=EXACT,
          rejects=(Reject("threshold 1.5", lambda b: (_zeros(2, 4)(b), _zeros(3, 4)(b),
                                                      b.device, 1.5),
                          match="iou_threshold"),
                   Reject("5 numbers per anchor", lambda b: (_zeros(2, 4)(b), _zeros(3, 5)(b),
                                                             b.device),
                          match="anchors"))),
    Entry("offset_boxes", "13.4", "offset_boxes(anchors, assigned_bb, eps=1e-06)",
          "Offsets (..., 4) of boxes from anchors in centre form, float32: 10 (c_box - c_anc) "
          "/ wh_anc, 5 log(eps + wh_box / wh_anc). Any leading axes (broadcast).",
          reference=offset_boxes, inputs=_offset_inputs, call=_box_call("offset_boxes"),
          tol=OFFSET_TOL,
          rejects=(Reject("3 numbers per box", lambda b: (_zeros(2, 4)(b), _zeros(2, 3)(b)),
                          match="assigned_bb"),)),
    Entry("multibox_target", "13.4", "multibox_target(anchors, labels)",
          "anchors (1, A, 4), labels (B, G, 5) rows (class, x1, y1, x2, y2) -> (offsets "
          "(B, 4A) float32, mask (B, 4A) (M int32, P and T float32), class ids (B, A) (M, T "
          "int32, P int64)): an anchor assigned (assign_anchor_to_bbox, threshold 0.5) to box "
          "j gets class_j + 1, offset_boxes to box j and mask 1 on its 4 numbers; the others "
          "0. Every label row is a box (no padding value). Vectorized over the batch.",
          reference=multibox_target, inputs=_target_inputs, call=_target_call,
          tol=OFFSET_TOL,
          rejects=(Reject("4 numbers per label", lambda b: (_zeros(1, 3, 4)(b),
                                                            _zeros(1, 2, 4)(b)),
                          match="labels"),)),
    Entry("offset_inverse", "13.4", "offset_inverse(anchors, offset_preds)",
          "Corner boxes (..., 4) from offsets: centre = offset_xy wh_anc / 10 + c_anc, wh = "
          "exp(offset_wh / 5) wh_anc (eps not undone), float32; any leading axes.",
          reference=offset_inverse, inputs=_inverse_inputs, call=_box_call("offset_inverse"),
          tol=OFFSET_TOL,
          rejects=(Reject("5 numbers per offset", lambda b: (_zeros(2, 4)(b), _zeros(2, 5)(b)),
                          match="offset_preds"),)),
    Entry("nms", "13.4", "nms(boxes, scores, iou_threshold)",
          "Greedy NMS: indices (M, T int32; P int64) of the kept boxes (N, 4) by decreasing "
          "score; a box goes when its IoU with a kept box is > iou_threshold. Spec decision: "
          "equal scores keep index order (upstream M and P broke ties in opposite ways). "
          "Extension: a batch (B, N, 4), (B, N) gives a list of B results. iou_threshold "
          "outside [0, 1] or NaN: ValueError naming it. Vectorized by blocks (no Python loop "
          "over pairs).",
          reference=_nms_edge_reference, inputs=_nms_inputs, call=_nms_call,
          edges=_nms_edges, tol=EXACT,
          rejects=(Reject("threshold -0.1", lambda b: (_zeros(2, 4)(b), _zeros(2)(b), -0.1),
                          match="iou_threshold"),
                   Reject("threshold 1.1", lambda b: (_zeros(2, 4)(b), _zeros(2)(b), 1.1),
                          match="iou_threshold"),
                   Reject("5 numbers per box", lambda b: (_zeros(2, 5)(b), _zeros(2)(b), 0.5),
                          match="boxes"))),
    Entry("multibox_detection", "13.4",
          "multibox_detection(cls_probs, offset_preds, anchors, nms_threshold=0.5, "
          "pos_threshold=0.009999999)",
          "(B, A, 6) float32 rows (class id, confidence, x1, y1, x2, y2): per example the best "
          "non-background class (first among equal probabilities) and its probability, boxes "
          "offset_inverse(anchors, offsets), nms; rows are the kept boxes by decreasing "
          "confidence (ties: index order), then the others by index with class -1; rows with "
          "confidence < pos_threshold get class -1 and confidence 1 - p. nms_threshold "
          "outside [0, 1]: ValueError naming it.",
          reference=multibox_detection, inputs=_detection_inputs, call=_detection_call,
          tol=OFFSET_TOL,
          rejects=(Reject("nms_threshold 2", lambda b: (_zeros(1, 2, 3)(b), _zeros(1, 12)(b),
                                                        _zeros(1, 3, 4)(b), 2.0),
                          match="nms_threshold"),
                   Reject("offsets of another anchor count",
                          lambda b: (_zeros(1, 2, 3)(b), _zeros(1, 8)(b), _zeros(1, 3, 4)(b)),
                          match="offset_preds"))),
]
