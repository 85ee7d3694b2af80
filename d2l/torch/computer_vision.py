"""Chapter 13, Computer Vision, for PyTorch.

Layouts: images CHW (batches NCHW); boxes in corner form (x1, y1, x2, y2).
"""

import numpy as np
import torch
from torch import nn
from torch.utils import data

from ..common import boxes as _boxes
from ..common import checks, multidevice
from ..common import vision_data as shared
from ..common.training import accuracy
from .computational_performance import (
    all_reduce_sum,
    distributed,
    known_device,
    split_batch,
)
from .convolutional_neural_networks import evaluate_accuracy_gpu
from .deep_learning_computation import try_all_gpus
from .linear_networks import get_dataloader_workers

__all__ = []

# --- 13.1 Image Augmentation ---
# The multi-device trainer every later chapter uses. Over several CUDA devices `train_ch13`
# wraps the net in `nn.DataParallel`, as the book does; in a process group (several CPU
# processes, see `run_data_parallel`) in `DistributedDataParallel`, every process training on
# its shard of the same global batch. Either way the step follows the gradient of the loss
# summed over the global batch, as one device does.

__all__ += ["train_batch_ch13", "train_ch13"]


def _to(X, device):
    return [x.to(device) for x in X] if isinstance(X, list) else X.to(device)


def train_batch_ch13(net, X, y, loss, trainer, devices):
    """Train on one minibatch: X (or each tensor of a list X) and y go to devices[0], the
    gradient of the summed loss (`loss` with reduction='none'; a loss that reduces to a scalar
    is taken as the batch mean) drives one `trainer.step()`. Returns (loss sum, 0-d tensor
    still attached to the graph; number of correct predictions, float). A
    DistributedDataParallel net trains on this process's shard of the batch (by rank) and the
    returned numbers are summed over the process group: those of the whole batch."""
    multidevice.check_devices("train_batch_ch13", devices, known_device)
    rank, world = distributed()
    if isinstance(net, nn.parallel.DistributedDataParallel) and world > 1:
        X_shards, y_shards = split_batch(X, y, [devices[0]] * world)
        X, y = X_shards[rank], y_shards[rank]
    X, y = _to(X, devices[0]), y.to(devices[0])
    net.train()
    trainer.zero_grad()
    pred = net(X)
    l = loss(pred, y)
    l_sum = l.sum() if l.dim() else l * y.shape[0]
    # DDP averages gradients over the processes: scaled by their number, the average of the
    # shards' summed-loss gradients is the gradient of the whole batch's summed loss.
    (l_sum * world).backward() if world > 1 else l_sum.backward()
    trainer.step()
    if world > 1:
        total_l, total_acc = all_reduce_sum([float(l_sum.detach()), accuracy(pred, y)])
        return l_sum.new_tensor(total_l), total_acc
    return l_sum, accuracy(pred, y)


def train_ch13(net, train_iter, test_iter, loss, trainer, num_epochs,
               devices=try_all_gpus()):  # noqa: B008  (the book's default, at import)
    """Train `net` in place with `trainer` on `devices`: several CUDA devices through
    `nn.DataParallel(net, device_ids=devices)`; inside a process group (one device per
    process) through DistributedDataParallel. Plots train loss/accuracy five times per epoch
    and the test accuracy (`evaluate_accuracy_gpu`) per epoch; prints the final metrics and
    the examples/sec on `devices`. Returns None, as in the book."""
    multidevice.check_devices("train_ch13", devices, known_device)
    multidevice.check_distinct("train_ch13", devices)
    if distributed()[1] > 1:
        if len(devices) != 1:
            raise ValueError(f"train_ch13: in a process group each process trains on one "
                             f"device; devices holds {len(devices)}")
        ids = None if devices[0].type == "cpu" else [devices[0]]
        wrapped = nn.parallel.DistributedDataParallel(net.to(devices[0]), device_ids=ids)
    elif len(devices) > 1:
        if any(d.type != "cuda" for d in devices):
            raise ValueError("train_ch13: devices lists several devices that are not all CUDA "
                             "devices; nn.DataParallel needs CUDA (train on several CPUs with "
                             "one process each: run_data_parallel)")
        wrapped = nn.DataParallel(net, device_ids=devices).to(devices[0])
    else:
        wrapped = net.to(devices[0])

    def step(X, y):
        l, acc = train_batch_ch13(wrapped, X, y, loss, trainer, devices)
        return l.detach(), acc, y.shape[0], y.numel()

    multidevice.train_ch13(step, lambda: evaluate_accuracy_gpu(wrapped, test_iter),
                           train_iter, num_epochs, devices)


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

    def iou(self, boxes1, boxes2):
        """In place on a CPU (about 1.5x faster than a new tensor per operation)."""
        if boxes1.device.type == "cpu" and boxes2.device.type == "cpu":
            return _boxes._iou_in_place(self, boxes1, boxes2)
        return super().iou(boxes1, boxes2)

    add, subtract, multiply = (staticmethod(f) for f in (
        torch.add, torch.subtract, torch.multiply))

    @staticmethod
    def empty(shape, like, dtype="float32"):
        return torch.empty(shape, dtype=getattr(torch, dtype), device=like.device)

    @staticmethod
    def relu_(x):
        return x.clamp_(min=0)

    @staticmethod
    def divide_where_positive_(num, den):
        num.div_(den.masked_fill_(den.gt(0).logical_not_(), 1.0))

    @staticmethod
    def in_ranges(fill, n, step):
        fill(0, n)  # PyTorch's kernels use every core already

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
        return torch.index_select(x, 0, index)  # index is 1-D (faster than x[index])

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
    def multiply_add(a, b, c):
        return torch.addcmul(a, b, c)

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


# --- 13.6 The Object Detection Dataset ---
__all__ += ["read_data_bananas", "BananasDataset", "load_data_bananas"]


def read_data_bananas(is_train=True):
    """(images, targets): a list of uint8 CHW (3, 256, 256) tensors in label.csv order, and
    float32 targets (N, 1, 5) = (class, x1, y1, x2, y2) / 256."""
    images, targets = shared.read_bananas(is_train)
    return [_chw(i) for i in images], torch.from_numpy(targets)


def _chw(array):
    """A uint8 image (H, W, C) read by PIL as a (C, H, W) tensor."""
    return torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))


class BananasDataset(data.Dataset):
    """The banana-detection split: item i is (image float32 (3, 256, 256) in 0..255, label
    float32 (1, 5)); prints how many examples were read."""

    def __init__(self, is_train):
        self.features, self.labels = read_data_bananas(is_train)
        print(shared.banana_message(is_train, len(self.features)))

    def __getitem__(self, idx):
        return self.features[idx].float(), self.labels[idx]

    def __len__(self):
        return len(self.features)


def load_data_bananas(batch_size):
    """(train_iter, val_iter) over the banana-detection dataset: X (B, 3, 256, 256) float32,
    Y (B, 1, 5) float32; the training set shuffled."""
    checks.positive_int("load_data_bananas", "batch_size", batch_size)
    return (data.DataLoader(BananasDataset(is_train=True), batch_size, shuffle=True),
            data.DataLoader(BananasDataset(is_train=False), batch_size))


# --- 13.9 Semantic Segmentation and the Dataset ---
__all__ += ["read_voc_images", "voc_colormap2label", "voc_label_indices", "voc_rand_crop",
            "VOCSegDataset", "load_data_voc"]


def read_voc_images(voc_dir, is_train=True):
    """(features, labels) of the train or val split: lists of uint8 CHW tensors (3, H, W),
    the labels holding the RGB colours of the classes."""
    features, labels = shared.read_voc_arrays(voc_dir, is_train)
    return [_chw(f) for f in features], [_chw(label) for label in labels]


def voc_colormap2label():
    """The int64 lookup vector (256**3,): entry (R * 256 + G) * 256 + B is that colour's
    class id, 0 for colours that are not in VOC_COLORMAP."""
    return torch.from_numpy(shared.voc_colormap2label_codes())


def voc_label_indices(colormap, colormap2label):
    """Class ids (H, W), int64, of a label image colormap (3, H, W) of RGB values 0..255
    (colours not in VOC_COLORMAP, e.g. the boundaries, give 0)."""
    shared.check_colormap(colormap.shape, 0, colormap2label.shape)
    colormap = torch.as_tensor(colormap)
    if colormap.dtype != torch.uint8 and colormap.numel():  # uint8 needs no check (no sync)
        shared.check_colour_values(int(colormap.min()), int(colormap.max()))
    colormap = colormap.long()
    codes = (colormap[0] * 256 + colormap[1]) * 256 + colormap[2]
    return colormap2label[codes.to(colormap2label.device)].long()


def voc_rand_crop(feature, label, height, width):
    """The same random (height, width) window of feature (C, H, W) and label (C', H, W),
    offsets drawn with torch's generator."""
    shared.check_crop(feature.shape[-2:], label.shape[-2:], height, width)
    top = int(torch.randint(0, feature.shape[-2] - height + 1, ()))
    left = int(torch.randint(0, feature.shape[-1] - width + 1, ()))
    window = (..., slice(top, top + height), slice(left, left + width))
    return feature[window], label[window]


class _Normalize:
    """(img - mean) / std per channel of a float image (C, H, W), as
    torchvision.transforms.Normalize (without importing torchvision, which takes seconds)."""

    def __init__(self, mean, std):
        self.mean = torch.tensor(mean, dtype=torch.float32).reshape(-1, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).reshape(-1, 1, 1)

    def __call__(self, img):
        return (img - self.mean.to(img.device)) / self.std.to(img.device)


class VOCSegDataset(data.Dataset):
    """VOC2012 segmentation examples at least crop_size = (h, w) large: item i is a random
    (h, w) crop, (feature float32 (3, h, w) normalised as (x / 255 - mean) / std with the
    ImageNet statistics, label int64 (h, w) class ids); prints the example count.

    Fixes the book's PyTorch version, which normalised the 0-255 values without dividing by
    255 first. `features` holds the kept images as read (uint8); the normalisation is applied
    to each crop, which gives the same values with a quarter of the memory.
    """

    def __init__(self, is_train, crop_size, voc_dir):
        self.crop_size = shared.crop_size_of("VOCSegDataset", crop_size)
        self.transform = _Normalize(shared.VOC_RGB_MEAN, shared.VOC_RGB_STD)
        features, labels = read_voc_images(voc_dir, is_train=is_train)
        self.features = self.filter(features)
        self.labels = self.filter(labels)
        self.colormap2label = voc_colormap2label()
        print(shared.voc_seg_message(len(self.features)))

    def normalize_image(self, img):
        return self.transform(img.float() / 255)

    def filter(self, imgs):
        keep = shared.large_enough([img.shape[-2:] for img in imgs], self.crop_size)
        return [imgs[i] for i in keep]

    def __getitem__(self, idx):
        feature, label = voc_rand_crop(self.features[idx], self.labels[idx], *self.crop_size)
        return self.normalize_image(feature), voc_label_indices(label, self.colormap2label)

    def __len__(self):
        return len(self.features)


def load_data_voc(batch_size, crop_size):
    """(train_iter, test_iter) over VOC2012 (downloaded and extracted): X (B, 3, h, w)
    float32, Y (B, h, w) int64; the last incomplete batch dropped, the training set
    shuffled."""
    checks.positive_int("load_data_voc", "batch_size", batch_size)
    crop_size = shared.crop_size_of("load_data_voc", crop_size)
    voc_dir = shared.voc_dir_of_hub()
    workers = get_dataloader_workers()
    return tuple(data.DataLoader(VOCSegDataset(train, crop_size, voc_dir), batch_size,
                                 shuffle=train, drop_last=True, num_workers=workers)
                 for train in (True, False))
