"""Chapter 13, Computer Vision, for TensorFlow. Images and feature maps are NHWC."""

import numpy as np
import tensorflow as tf

from ..common import boxes as _boxes

__all__ = []

# --- 13.3-13.4 Bounding boxes and anchors ---
# The algorithms are written once in d2l.common.boxes against this vocabulary; boxes are
# (..., 4) float tensors, indices int32, multibox_target's mask float32. Every function runs
# on the device of its first tensor argument.


def _like(value, other):
    """A Python number as a tensor of `other`'s dtype (tf.where does not promote)."""
    return value if tf.is_tensor(value) else tf.constant(value, dtype=other.dtype)


class _BoxOps(_boxes.BoxOps):
    index_dtype, mask_dtype = "int32", "float32"

    @staticmethod
    def scope(x):
        return tf.device(x.device)

    @staticmethod
    def tensor(array, like):
        with tf.device(like.device):
            return tf.identity(tf.constant(np.asarray(array)))

    @staticmethod
    def full(shape, value, dtype, like):
        with tf.device(like.device):
            return tf.fill(shape, tf.constant(value, dtype=dtype))

    @staticmethod
    def feature_hw(data):
        """A channels-last feature map (..., H, W, channels)."""
        if data.shape.rank < 3:
            raise ValueError(f"multibox_prior: data must be channels-last (..., H, W, "
                             f"channels), got shape {tuple(data.shape)}")
        return tuple(int(d) for d in data.shape[-3:-1])

    maximum, minimum, log, exp, matmul = (staticmethod(f) for f in (
        tf.maximum, tf.minimum, tf.math.log, tf.exp, tf.matmul))
    logical_and, logical_or, logical_not = (staticmethod(f) for f in (
        tf.logical_and, tf.logical_or, tf.logical_not))

    @staticmethod
    def relu(x):
        return tf.maximum(x, tf.zeros((), x.dtype))

    @staticmethod
    def where(cond, a, b):
        other = b if tf.is_tensor(b) else a
        return tf.where(cond, _like(a, other), _like(b, other))

    @staticmethod
    def max_argmax(x, axis):
        return tf.reduce_max(x, axis=axis), tf.argmax(x, axis=axis)

    @staticmethod
    def any(x, axis):
        return tf.reduce_any(x, axis=axis)

    @staticmethod
    def reshape(x, shape):
        return tf.reshape(x, shape)

    @staticmethod
    def expand_dims(x, axis):
        return tf.expand_dims(x, axis)

    @staticmethod
    def stack(xs, axis):
        return tf.stack(xs, axis=axis)

    @staticmethod
    def concat(xs, axis):
        return tf.concat(xs, axis=axis)

    @staticmethod
    def take(x, index):
        return tf.gather(x, index)

    @staticmethod
    def mask_rows(x, mask):
        return tf.boolean_mask(x, mask)

    @staticmethod
    def arange(n, like):
        with tf.device(like.device):
            return tf.range(n, dtype=tf.int64)

    @staticmethod
    def cast(x, dtype):
        return tf.cast(x, dtype)

    @staticmethod
    def floating(x):
        return x if x.dtype.is_floating else tf.cast(x, tf.float32)

    @staticmethod
    def is_cpu(x):
        return "CPU" in x.device

    @staticmethod
    def coords(x):
        return tf.unstack(x, axis=-1)

    @staticmethod
    def put(x, index, values):
        return tf.tensor_scatter_nd_update(x, index[:, None], values)

    @staticmethod
    def mark(index, n):
        return tf.scatter_nd(index[:, None], tf.ones_like(index, tf.bool), [n])

    @staticmethod
    def argsort(x):
        return tf.cast(tf.argsort(x, stable=True), tf.int64)

    @staticmethod
    def same(a, b):
        return bool(tf.reduce_all(tf.equal(a, b)))

    @staticmethod
    def to_device(x, device):
        if device is None:
            return x
        with tf.device(getattr(device, "_device_name", device)):
            return tf.identity(x)


_OPS = _BoxOps()
_HOST_OPS = _boxes.NumpyOps(_BoxOps.index_dtype, _BoxOps.mask_dtype)


def _to_tensor(out, like):
    with tf.device(like.device):
        return tf.identity(tf.constant(out))


def _host_or_device(fn):
    """On NumPy for CPU tensors: eager TensorFlow dispatches each of the many small ops of
    anchor labelling and NMS slowly (see d2l.common.boxes.host_or_device)."""
    return _boxes.host_or_device(fn, _OPS, _HOST_OPS, tf.is_tensor,
                                 lambda a: "CPU" in a.device, _to_tensor)


box_corner_to_center, box_center_to_corner, multibox_prior, box_iou = _boxes.bind(
    _OPS, _boxes.box_corner_to_center, _boxes.box_center_to_corner, _boxes.multibox_prior,
    _boxes.box_iou)
(offset_boxes, multibox_target, offset_inverse, nms, multibox_detection) = (
    _host_or_device(f) for f in (_boxes.offset_boxes, _boxes.multibox_target,
                                 _boxes.offset_inverse, _boxes.nms, _boxes.multibox_detection))
bbox_to_rect, show_bboxes = _boxes.bbox_to_rect, _boxes.show_bboxes


def assign_anchor_to_bbox(ground_truth, anchors, device, iou_threshold=0.5):
    """Index (int32) of the ground-truth box (G, 4) each anchor (A, 4) is assigned to, or
    -1, on `device` (a name, or what d2l.try_gpu returns); ground_truth (B, G, 4) gives
    (B, A). See d2l.common.boxes."""
    assigned = _assign(ground_truth, anchors, iou_threshold)
    return _OPS.to_device(tf.cast(assigned, tf.int32), device)


_assign = _host_or_device(_boxes.assign_anchor_to_bbox)


__all__ += ["box_corner_to_center", "box_center_to_corner", "bbox_to_rect", "multibox_prior",
            "show_bboxes", "box_iou", "assign_anchor_to_bbox", "offset_boxes",
            "multibox_target", "offset_inverse", "nms", "multibox_detection"]
