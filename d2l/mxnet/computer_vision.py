"""Chapter 13, Computer Vision, for MXNet (Gluon, `mxnet.np`).

Layouts: images read from files HWC, examples and batches given to networks CHW / NCHW;
boxes in corner form (x1, y1, x2, y2).
"""

import random

import mxnet as mx
import numpy as onp
from mxnet import autograd, gluon, np

from ..common import boxes as _boxes
from ..common import checks, multidevice
from ..common import vision_data as shared
from ..common.training import accuracy
from .computational_performance import evaluate_accuracy_gpus, known_device, split_batch
from .deep_learning_computation import try_all_gpus
from .linear_networks import get_dataloader_workers

__all__ = []

# --- 13.1 Image Augmentation ---
# The multi-device trainer every later chapter uses. Gluon does the data parallelism: the
# shards go to their contexts (`split_f`), each context runs forward/backward on its shard,
# and `trainer.step(batch_size)` sums the contexts' gradients in the kvstore, divides by the
# global batch size and updates every copy of the parameters.

__all__ += ["train_batch_ch13", "train_ch13"]


def train_batch_ch13(net, features, labels, loss, trainer, devices, split_f=split_batch):
    """Train on one minibatch split by `split_f` over `devices`; returns (loss sum, number of
    correct predictions) over the whole batch as Python floats. The step uses the gradient
    of the loss summed over the batch divided by `labels.shape[0]` (the batch mean)."""
    multidevice.check_devices("train_batch_ch13", devices, known_device)
    X_shards, y_shards = split_f(features, labels, devices)
    with autograd.record():
        pred_shards = [net(X_shard) for X_shard in X_shards]
        ls = [loss(pred_shard, y_shard) for pred_shard, y_shard in zip(pred_shards, y_shards)]
    for l in ls:
        l.backward()
    # ignore_stale_grad: parameters the net did not use in this step keep their values.
    trainer.step(labels.shape[0], ignore_stale_grad=True)
    train_loss_sum = sum(float(l.sum()) for l in ls)
    train_acc_sum = sum(accuracy(p, y) for p, y in zip(pred_shards, y_shards))
    return train_loss_sum, train_acc_sum


def train_ch13(net, train_iter, test_iter, loss, trainer, num_epochs,
               devices=try_all_gpus(), split_f=split_batch):  # noqa: B008  (the book's default, at import)
    """Train `net` (initialized on `devices`) with `trainer` on batches split over
    `devices`, plotting train loss/accuracy five times per epoch and the test accuracy
    (`evaluate_accuracy_gpus`) per epoch; prints the final metrics and the examples/sec on
    `devices`. Returns None, as in the book."""
    multidevice.check_devices("train_ch13", devices, known_device)
    multidevice.check_distinct("train_ch13", devices)

    def step(features, labels):
        l, acc = train_batch_ch13(net, features, labels, loss, trainer, devices, split_f)
        return l, acc, labels.shape[0], labels.size

    multidevice.train_ch13(step, lambda: evaluate_accuracy_gpus(net, test_iter, split_f),
                           train_iter, num_epochs, devices)


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
    def multiply_add(a, b, c):
        return a + b * c

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


def _from_host(out, like):
    """A NumPy result as an mxnet.np array on like's (CPU) device: a C-contiguous, non-empty
    result lends its memory (DLPack, no copy of what can be a large array)."""
    if out.ndim and out.size and out.flags.c_contiguous and like.ctx == mx.cpu():
        return mx.nd.from_numpy(out, zero_copy=True).as_np_ndarray()
    return np.array(out, dtype=out.dtype, ctx=like.ctx)


def _host_or_device(fn, shape_only=()):
    """On NumPy for CPU arrays: MXNet's CPU kernels for broadcasting ops are several times
    slower than NumPy's (see d2l.common.boxes.host_or_device)."""
    return _boxes.host_or_device(
        fn, _OPS, _HOST_OPS, lambda a: isinstance(a, np.ndarray),
        lambda a: a.ctx.device_type == "cpu", _from_host, shape_only)


box_corner_to_center, box_center_to_corner = _boxes.bind(
    _OPS, _boxes.box_corner_to_center, _boxes.box_center_to_corner)
multibox_prior = _host_or_device(_boxes.multibox_prior, shape_only=("data",))
(box_iou, offset_boxes, multibox_target, offset_inverse, nms, multibox_detection) = (
    _host_or_device(f) for f in (_boxes.box_iou, _boxes.offset_boxes, _boxes.multibox_target,
                                 _boxes.offset_inverse, _boxes.nms, _boxes.multibox_detection))
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


# --- 13.6 The Object Detection Dataset ---
__all__ += ["read_data_bananas", "BananasDataset", "load_data_bananas"]


def read_data_bananas(is_train=True):
    """(images, targets): a list of uint8 HWC (256, 256, 3) arrays in label.csv order, and
    float32 targets (N, 1, 5) = (class, x1, y1, x2, y2) / 256."""
    images, targets = shared.read_bananas(is_train)
    return [np.array(i, dtype="uint8") for i in images], np.array(targets, dtype="float32")


class BananasDataset(gluon.data.Dataset):
    """The banana-detection split: item i is (image float32 CHW (3, 256, 256) in 0..255,
    label float32 (1, 5)); prints how many examples were read."""

    def __init__(self, is_train):
        self.features, self.labels = read_data_bananas(is_train)
        print(shared.banana_message(is_train, len(self.features)))

    def __getitem__(self, idx):
        return self.features[idx].astype("float32").transpose(2, 0, 1), self.labels[idx]

    def __len__(self):
        return len(self.features)


def load_data_bananas(batch_size):
    """(train_iter, val_iter) over the banana-detection dataset: X (B, 3, 256, 256) float32,
    Y (B, 1, 5) float32; the training set shuffled."""
    checks.positive_int("load_data_bananas", "batch_size", batch_size)
    return (gluon.data.DataLoader(BananasDataset(is_train=True), batch_size, shuffle=True),
            gluon.data.DataLoader(BananasDataset(is_train=False), batch_size))


# --- 13.9 Semantic Segmentation and the Dataset ---
__all__ += ["read_voc_images", "voc_colormap2label", "voc_label_indices", "voc_rand_crop",
            "VOCSegDataset", "load_data_voc"]


def read_voc_images(voc_dir, is_train=True):
    """(features, labels) of the train or val split: lists of uint8 HWC arrays (H, W, 3),
    the labels holding the RGB colours of the classes."""
    features, labels = shared.read_voc_arrays(voc_dir, is_train)
    return ([np.array(f, dtype="uint8") for f in features],
            [np.array(label, dtype="uint8") for label in labels])


def voc_colormap2label():
    """The float32 lookup vector (256**3,): entry (R * 256 + G) * 256 + B is that colour's
    class id, 0 for colours that are not in VOC_COLORMAP."""
    return np.array(shared.voc_colormap2label_codes(onp.float32), dtype="float32")


def voc_label_indices(colormap, colormap2label):
    """Class ids (H, W) of a label image colormap (H, W, 3) of RGB values 0..255, in the
    lookup's dtype (float32); colours not in VOC_COLORMAP (e.g. the boundaries) give 0."""
    shared.check_colormap(colormap.shape, 2, colormap2label.shape)
    if colormap.dtype != onp.uint8 and colormap.size:  # uint8 needs no check (no sync)
        shared.check_colour_values(int(colormap.min()), int(colormap.max()))
    colormap = colormap.astype("int32")
    codes = (colormap[:, :, 0] * 256 + colormap[:, :, 1]) * 256 + colormap[:, :, 2]
    return colormap2label[codes]


def voc_rand_crop(feature, label, height, width):
    """The same random (height, width) window of feature (H, W, C) and label (H, W, C'),
    offsets drawn with Python's `random` (as mxnet.image.random_crop does)."""
    shared.check_crop(feature.shape[:2], label.shape[:2], height, width)
    top = random.randint(0, feature.shape[0] - height)
    left = random.randint(0, feature.shape[1] - width)
    return (feature[top:top + height, left:left + width],
            label[top:top + height, left:left + width])


class VOCSegDataset(gluon.data.Dataset):
    """VOC2012 segmentation examples at least crop_size = (h, w) large: item i is a random
    (h, w) crop, (feature float32 (3, h, w) normalised as (x / 255 - rgb_mean) / rgb_std with
    the ImageNet statistics, label float32 (h, w) class ids); prints the example count.

    `features` holds the kept images as read (uint8 HWC); the normalisation is applied to each
    crop, which gives the book's values with a quarter of the memory.
    """

    def __init__(self, is_train, crop_size, voc_dir):
        self.rgb_mean = np.array(shared.VOC_RGB_MEAN)
        self.rgb_std = np.array(shared.VOC_RGB_STD)
        self.crop_size = shared.crop_size_of("VOCSegDataset", crop_size)
        features, labels = read_voc_images(voc_dir=voc_dir, is_train=is_train)
        self.features = self.filter(features)
        self.labels = self.filter(labels)
        self.colormap2label = voc_colormap2label()
        print(shared.voc_seg_message(len(self.features)))

    def normalize_image(self, img):
        return (img.astype("float32") / 255 - self.rgb_mean) / self.rgb_std

    def filter(self, imgs):
        keep = shared.large_enough([img.shape[:2] for img in imgs], self.crop_size)
        return [imgs[i] for i in keep]

    def __getitem__(self, idx):
        feature, label = voc_rand_crop(self.features[idx], self.labels[idx], *self.crop_size)
        return (self.normalize_image(feature).transpose(2, 0, 1),
                voc_label_indices(label, self.colormap2label))

    def __len__(self):
        return len(self.features)


def load_data_voc(batch_size, crop_size):
    """(train_iter, test_iter) over VOC2012 (downloaded and extracted): X (B, 3, h, w)
    float32, Y (B, h, w) float32 class ids; the last incomplete batch dropped, the training
    set shuffled."""
    checks.positive_int("load_data_voc", "batch_size", batch_size)
    crop_size = shared.crop_size_of("load_data_voc", crop_size)
    voc_dir = shared.voc_dir_of_hub()
    workers = get_dataloader_workers()
    return tuple(gluon.data.DataLoader(VOCSegDataset(train, crop_size, voc_dir), batch_size,
                                       shuffle=train, last_batch="discard",
                                       num_workers=workers)
                 for train in (True, False))
