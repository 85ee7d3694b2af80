"""Chapter 13, Computer Vision, for MXNet. Images and feature maps are NCHW."""

import numpy as onp
from mxnet import np

from ..common import boxes as _boxes

__all__ = []

# --- 13.3-13.4 Bounding boxes and anchors ---
# The algorithms are written once in d2l.common.boxes against this vocabulary; boxes are
# (..., 4) float arrays, indices int32 (as upstream), multibox_target's mask int32.


class _BoxOps(_boxes.BoxOps):
    index_dtype, mask_dtype = "int32", "int32"

    @staticmethod
    def tensor(array, like):
        array = onp.asarray(array)
        return np.array(array, dtype=array.dtype, ctx=like.ctx)

    @staticmethod
    def full(shape, value, dtype, like):
        return np.full(shape, value, dtype=dtype, ctx=like.ctx)

    @staticmethod
    def feature_hw(data):
        if data.ndim < 2:
            raise ValueError(f"multibox_prior: data must be (..., H, W), got shape {data.shape}")
        return tuple(data.shape[-2:])

    maximum, minimum, log, exp, matmul = (staticmethod(f) for f in (
        np.maximum, np.minimum, np.log, np.exp, np.matmul))
    logical_not = staticmethod(np.logical_not)

    # mxnet.np has no logical_and / logical_or (its bitwise ones refuse booleans); boolean
    # products and sums are the same thing.
    @staticmethod
    def logical_and(a, b):
        return a * b

    @staticmethod
    def logical_or(a, b):
        return a + b

    @staticmethod
    def relu(x):
        return np.maximum(x, 0)

    @staticmethod
    def where(cond, a, b):
        return np.where(cond, a, b)

    @staticmethod
    def max_argmax(x, axis):
        return x.max(axis=axis), x.argmax(axis=axis)

    @staticmethod
    def any(x, axis):
        return np.any(x, axis=axis)

    @staticmethod
    def reshape(x, shape):
        return x.reshape(shape)

    @staticmethod
    def expand_dims(x, axis):
        return np.expand_dims(x, axis)

    @staticmethod
    def stack(xs, axis):
        return np.stack(xs, axis=axis)

    @staticmethod
    def concat(xs, axis):
        return np.concatenate(xs, axis=axis)

    @staticmethod
    def take(x, index):
        return np.take(x, index, axis=0)

    @staticmethod
    def mask_rows(x, mask):
        return x if x.shape[0] == 0 else x[mask]  # MXNet aborts on an empty boolean index

    @staticmethod
    def arange(n, like):
        return np.arange(n, dtype="int64", ctx=like.ctx)

    @staticmethod
    def cast(x, dtype):
        return x.astype(dtype, copy=False)

    @staticmethod
    def floating(x):
        return x if onp.issubdtype(x.dtype, onp.floating) else x.astype("float32")

    @staticmethod
    def is_cpu(x):
        return x.ctx.device_type == "cpu"

    @staticmethod
    def coords(x):
        return [x[..., k] for k in range(4)]

    @staticmethod
    def put(x, index, values):
        out = x.copy()
        out[index] = values
        return out

    @staticmethod
    def mark(index, n):
        marks = np.zeros(n, ctx=index.ctx)
        if index.shape[0]:
            marks[index] = 1
        return marks > 0

    @staticmethod
    def argsort(x):
        """Stable (MXNet's own argsort is not): sorted on the host."""
        order = onp.argsort(x.asnumpy(), kind="stable")
        return np.array(order, dtype="int64", ctx=x.ctx)

    @staticmethod
    def same(a, b):
        return bool(np.all(a == b))

    @staticmethod
    def to_device(x, device):
        return x if device is None else x.as_in_ctx(device)


_OPS = _BoxOps()
_HOST_OPS = _boxes.NumpyOps(_BoxOps.index_dtype, _BoxOps.mask_dtype)


def _host_or_device(fn):
    """On NumPy for CPU arrays: MXNet's CPU kernels for broadcasting ops are several times
    slower than NumPy's (see d2l.common.boxes.host_or_device)."""
    return _boxes.host_or_device(
        fn, _OPS, _HOST_OPS, lambda a: isinstance(a, np.ndarray),
        lambda a: a.ctx.device_type == "cpu",
        lambda out, like: np.array(out, dtype=out.dtype, ctx=like.ctx))


box_corner_to_center, box_center_to_corner, multibox_prior = _boxes.bind(
    _OPS, _boxes.box_corner_to_center, _boxes.box_center_to_corner, _boxes.multibox_prior)
(box_iou, offset_boxes, multibox_target, offset_inverse, nms, multibox_detection) = (
    _host_or_device(f) for f in (_boxes.box_iou, _boxes.offset_boxes, _boxes.multibox_target,
                                 _boxes.offset_inverse, _boxes.nms,
                                 _boxes.multibox_detection))
bbox_to_rect, show_bboxes = _boxes.bbox_to_rect, _boxes.show_bboxes


def assign_anchor_to_bbox(ground_truth, anchors, device, iou_threshold=0.5):
    """Index (int32) of the ground-truth box (G, 4) each anchor (A, 4) is assigned to, or
    -1, on `device`; ground_truth (B, G, 4) gives (B, A). See d2l.common.boxes."""
    assigned = _assign(ground_truth, anchors, iou_threshold)
    return _OPS.to_device(assigned.astype("int32"), device)


_assign = _host_or_device(_boxes.assign_anchor_to_bbox)


__all__ += ["box_corner_to_center", "box_center_to_corner", "bbox_to_rect", "multibox_prior",
            "show_bboxes", "box_iou", "assign_anchor_to_bbox", "offset_boxes",
            "multibox_target", "offset_inverse", "nms", "multibox_detection"]
