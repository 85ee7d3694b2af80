"""Chapter 13, Computer Vision, for PyTorch. Images and feature maps are NCHW."""

import numpy as np
import torch

from ..common import boxes as _boxes

__all__ = []

# --- 13.3-13.4 Bounding boxes and anchors ---
# The algorithms are written once in d2l.common.boxes against this vocabulary; boxes are
# (..., 4) float tensors, indices int64, multibox_target's mask float32.


class _BoxOps(_boxes.BoxOps):
    index_dtype, mask_dtype = "int64", "float32"

    @staticmethod
    def tensor(array, like):
        return torch.from_numpy(np.ascontiguousarray(array)).to(like.device)

    @staticmethod
    def full(shape, value, dtype, like):
        return torch.full(shape, value, dtype=getattr(torch, dtype), device=like.device)

    @staticmethod
    def feature_hw(data):
        if data.dim() < 2:
            raise ValueError(f"multibox_prior: data must be (..., H, W), got shape "
                             f"{tuple(data.shape)}")
        return tuple(data.shape[-2:])

    maximum, minimum, log, exp, matmul = (staticmethod(f) for f in (
        torch.maximum, torch.minimum, torch.log, torch.exp, torch.matmul))
    logical_and, logical_or, logical_not = (staticmethod(f) for f in (
        torch.logical_and, torch.logical_or, torch.logical_not))

    @staticmethod
    def relu(x):
        return torch.clamp(x, min=0)

    @staticmethod
    def where(cond, a, b):
        return torch.where(cond, a, b)

    @staticmethod
    def max_argmax(x, axis):
        values, indices = x.max(dim=axis)
        return values, indices

    @staticmethod
    def any(x, axis):
        return x.any(dim=axis)

    @staticmethod
    def reshape(x, shape):
        return x.reshape(shape)

    @staticmethod
    def expand_dims(x, axis):
        return x.unsqueeze(axis)

    @staticmethod
    def stack(xs, axis):
        return torch.stack(xs, dim=axis)

    @staticmethod
    def concat(xs, axis):
        return torch.cat(xs, dim=axis)

    @staticmethod
    def take(x, index):
        return x[index]

    @staticmethod
    def mask_rows(x, mask):
        return x[mask]

    @staticmethod
    def arange(n, like):
        return torch.arange(n, device=like.device)

    @staticmethod
    def cast(x, dtype):
        return x.to(getattr(torch, dtype))

    @staticmethod
    def floating(x):
        return x if x.is_floating_point() else x.float()

    @staticmethod
    def is_cpu(x):
        return x.device.type == "cpu"

    @staticmethod
    def coords(x):
        return x.movedim(-1, 0).contiguous().unbind(0)

    @staticmethod
    def put(x, index, values):
        return x.index_put((index,), values)

    @staticmethod
    def mark(index, n):
        marks = torch.zeros(n, dtype=torch.bool, device=index.device)
        return marks.index_fill_(0, index, True)

    @staticmethod
    def argsort(x):
        return torch.argsort(x, stable=True)

    @staticmethod
    def same(a, b):
        return bool(torch.equal(a, b))

    @staticmethod
    def to_device(x, device):
        return x if device is None else x.to(device)


_OPS = _BoxOps()
(box_corner_to_center, box_center_to_corner, multibox_prior, box_iou, offset_boxes,
 multibox_target, offset_inverse, nms, multibox_detection) = _boxes.bind(
    _OPS, _boxes.box_corner_to_center, _boxes.box_center_to_corner, _boxes.multibox_prior,
    _boxes.box_iou, _boxes.offset_boxes, _boxes.multibox_target, _boxes.offset_inverse,
    _boxes.nms, _boxes.multibox_detection)
bbox_to_rect, show_bboxes = _boxes.bbox_to_rect, _boxes.show_bboxes


def assign_anchor_to_bbox(ground_truth, anchors, device, iou_threshold=0.5):
    """Index (int64) of the ground-truth box (G, 4) each anchor (A, 4) is assigned to, or
    -1, on `device`; ground_truth (B, G, 4) gives (B, A). See d2l.common.boxes."""
    assigned = _boxes.assign_anchor_to_bbox(_OPS, ground_truth, anchors, iou_threshold)
    return _OPS.to_device(assigned, device)


__all__ += ["box_corner_to_center", "box_center_to_corner", "bbox_to_rect", "multibox_prior",
            "show_bboxes", "box_iou", "assign_anchor_to_bbox", "offset_boxes",
            "multibox_target", "offset_inverse", "nms", "multibox_detection"]
