"""Chapter 13, Computer Vision, for TensorFlow (the book saved none of it for TensorFlow).

Layouts: images HWC (batches NHWC, TensorFlow's channels-last); boxes in corner form
(x1, y1, x2, y2).
"""

import weakref

import numpy as np
import tensorflow as tf
from tensorflow import keras

from ..common import boxes as _boxes
from ..common import checks, multidevice
from ..common import vision_data as shared
from .computational_performance import (
    _correct,
    device_names,
    distribute,
    evaluate_accuracy_gpus,
    mirrored_strategy,
    replicas,
    split_batch,
)
from .deep_learning_computation import try_all_gpus
from .linear_networks import get_dataloader_workers

__all__ = []

# --- 13.1 Image Augmentation ---
# The multi-device trainer every later chapter uses (the book has it for MXNet and PyTorch
# only). One device: a plain step there. Several: `tf.distribute.MirroredStrategy` runs the
# step on every device's shard and the optimizer sums the replicas' gradients. Either way the
# step follows the gradient of the loss summed over the global batch, as PyTorch's does.

__all__ += ["train_batch_ch13", "train_ch13"]

# net -> {(loss, trainer, device names): compiled step}
_STEPS = weakref.WeakKeyDictionary()


def _summed_loss(loss, pred, y):
    """The loss summed over a shard: a Keras loss per example (its unreduced `call`, label
    first), another callable as loss(pred, y); a scalar result is taken as the shard mean."""
    l = loss.call(y, pred) if isinstance(loss, keras.losses.Loss) else loss(pred, y)
    if l.shape.rank == 0:
        return l * tf.cast(tf.shape(y)[0], l.dtype)
    return tf.reduce_sum(l)


def _replica_step(net, loss, trainer):
    def step(X, y):
        with tf.GradientTape() as tape:
            pred = net(X, training=True)
            l = _summed_loss(loss, pred, y)
        grads = tape.gradient(l, net.trainable_variables)
        trainer.apply_gradients(zip(grads, net.trainable_variables))
        return l, _correct(pred, y)
    return step


def _compiled_step(net, loss, trainer, names):
    steps = _STEPS.setdefault(net, {})
    key = (id(loss), id(trainer), tuple(names))
    if key not in steps:
        step = _replica_step(net, loss, trainer)
        if len(names) == 1:
            steps[key] = tf.function(step, reduce_retracing=True)
        else:
            strategy = mirrored_strategy(names)

            def mirrored(X, y):
                per_replica = strategy.run(step, args=(X, y))
                return tuple(strategy.reduce("SUM", v, axis=None) for v in per_replica)

            steps[key] = tf.function(mirrored, reduce_retracing=True)
    return steps[key]


def train_batch_ch13(net, X, y, loss, trainer, devices):
    """Train on one minibatch with the gradient of the loss summed over the batch; returns
    (loss sum, number of correct predictions) as Python floats. One device: the step runs
    there. Several: the batch is split over them (`split_batch`) and trained by their
    MirroredStrategy, under whose scope (`mirrored_strategy(devices).scope()`) the net and
    the trainer must have been created."""
    names = device_names("train_batch_ch13", devices)
    if len(names) > 1 and replicas(net) is not mirrored_strategy(names):
        raise ValueError("train_batch_ch13: to train on several devices, net must be built "
                         "under d2l.mirrored_strategy(devices).scope()")
    step = _compiled_step(net, loss, trainer, names)
    if len(names) == 1:
        with tf.device(names[0]):
            l, correct = step(tf.identity(X), tf.identity(y))
    else:
        strategy = mirrored_strategy(names)
        X_shards, y_shards = split_batch(X, y, names)
        l, correct = step(distribute(strategy, X_shards), distribute(strategy, y_shards))
    return float(l), float(correct)


def _on_devices(net, trainer, names):
    """(network, optimizer) to train on `names`. A model is trained in place with `trainer`;
    on several devices it must have been built under their `mirrored_strategy` (with the
    optimizer). A builder `net()` is called on the device (one) or under the devices'
    strategy (several), where a fresh optimizer of `trainer`'s configuration is made too."""
    if isinstance(net, keras.Model):
        if len(names) > 1 and replicas(net) is not mirrored_strategy(names):
            raise ValueError("train_ch13: to train on several devices, net must be built "
                             "under d2l.mirrored_strategy(devices).scope() (MirroredStrategy "
                             "creates its variables), or be a function that builds it")
        return net, trainer
    if len(names) == 1:
        with tf.device(names[0]):
            return net(), trainer
    with mirrored_strategy(names).scope():
        return net(), trainer.__class__.from_config(trainer.get_config())


def train_ch13(net, train_iter, test_iter, loss, trainer, num_epochs, devices=None):
    """Train with the Keras optimizer `trainer` on `devices`, data parallel over several;
    `net` is a model, trained in place (on several devices: built with the optimizer under
    `mirrored_strategy(devices).scope()`), or a function building one (called under the
    devices' strategy, with a fresh optimizer of `trainer`'s configuration). Plots train
    loss/accuracy five times per epoch and the test accuracy (`evaluate_accuracy_gpus`) per
    epoch; prints the final metrics and the examples/sec on the device names. Returns the
    trained model. `devices` defaults to `try_all_gpus()` at call time: MXNet and PyTorch
    evaluate it at import, as the book does, but here that would initialize TensorFlow's
    devices on `import d2l`, after which logical devices can no longer be configured."""
    names = device_names("train_ch13", try_all_gpus() if devices is None else devices)
    model, optimizer = _on_devices(net, trainer, names)

    def step(X, y):
        l, acc = train_batch_ch13(model, X, y, loss, optimizer, names)
        return l, acc, y.shape[0], tf.size(y)

    multidevice.train_ch13(step, lambda: evaluate_accuracy_gpus(model, test_iter),
                           train_iter, num_epochs, names)
    return model


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
    def multiply_add(a, b, c):
        return a + b * c

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
_HOST_OPS = _boxes.NumpyOps(_BoxOps.index_dtype, _BoxOps.mask_dtype, channels_last=True)


def _to_tensor(out, like):
    """A NumPy result as a tensor on like's (CPU) device: a C-contiguous, non-empty result
    aligned as TensorFlow requires (64 bytes; see d2l.common.boxes.aligned_empty) lends its
    memory (DLPack, no copy of what can be a large array)."""
    if out.ndim and out.size and out.flags.c_contiguous and out.ctypes.data % 64 == 0:
        return tf.experimental.dlpack.from_dlpack(out.__dlpack__())
    with tf.device(like.device):
        return tf.identity(tf.constant(out))


def _host_or_device(fn, shape_only=()):
    """On NumPy for CPU tensors: eager TensorFlow dispatches each of the many small ops of
    anchor labelling and NMS slowly, and its broadcasting kernels trail NumPy's on the CPU
    (see d2l.common.boxes.host_or_device)."""
    return _boxes.host_or_device(fn, _OPS, _HOST_OPS, tf.is_tensor,
                                 lambda a: "CPU" in a.device, _to_tensor, shape_only)


box_corner_to_center, box_center_to_corner = _boxes.bind(
    _OPS, _boxes.box_corner_to_center, _boxes.box_center_to_corner)
multibox_prior = _host_or_device(_boxes.multibox_prior, shape_only=("data",))
(box_iou, offset_boxes, multibox_target, offset_inverse, nms, multibox_detection) = (
    _host_or_device(f) for f in (_boxes.box_iou, _boxes.offset_boxes, _boxes.multibox_target,
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


# --- 13.6 The Object Detection Dataset ---
__all__ += ["read_data_bananas", "BananasDataset", "load_data_bananas"]


def read_data_bananas(is_train=True):
    """(images, targets): a list of uint8 HWC (256, 256, 3) tensors in label.csv order, and
    float32 targets (N, 1, 5) = (class, x1, y1, x2, y2) / 256."""
    images, targets = shared.read_bananas(is_train)
    return [tf.constant(i) for i in images], tf.constant(targets)


class BananasDataset:
    """The banana-detection split: item i is (image float32 HWC (256, 256, 3) in 0..255,
    label float32 (1, 5)); prints how many examples were read."""

    def __init__(self, is_train):
        self.features, self.labels = read_data_bananas(is_train)
        print(shared.banana_message(is_train, len(self.features)))

    def __getitem__(self, idx):
        return tf.cast(self.features[idx], tf.float32), self.labels[idx]

    def __len__(self):
        return len(self.features)


def load_data_bananas(batch_size):
    """(train_iter, val_iter): tf.data.Datasets over the banana-detection dataset, X
    (B, 256, 256, 3) float32 in 0..255, Y (B, 1, 5) float32; the training set reshuffled on
    every pass."""
    checks.positive_int("load_data_bananas", "batch_size", batch_size)

    def loader(is_train):
        dataset = BananasDataset(is_train=is_train)
        images = tf.stack(dataset.features) if len(dataset) else tf.zeros((0, 256, 256, 3),
                                                                          tf.uint8)
        examples = tf.data.Dataset.from_tensor_slices((images, dataset.labels))
        if is_train:
            examples = examples.shuffle(max(len(dataset), 1))
        return examples.batch(batch_size).map(lambda X, Y: (tf.cast(X, tf.float32), Y))

    return loader(True), loader(False)


# --- 13.9 Semantic Segmentation and the Dataset ---
__all__ += ["read_voc_images", "voc_colormap2label", "voc_label_indices", "voc_rand_crop",
            "VOCSegDataset", "load_data_voc"]


def read_voc_images(voc_dir, is_train=True):
    """(features, labels) of the train or val split: lists of uint8 HWC tensors (H, W, 3),
    the labels holding the RGB colours of the classes."""
    features, labels = shared.read_voc_arrays(voc_dir, is_train)
    return [tf.constant(f) for f in features], [tf.constant(label) for label in labels]


def voc_colormap2label():
    """The int32 lookup vector (256**3,): entry (R * 256 + G) * 256 + B is that colour's
    class id, 0 for colours that are not in VOC_COLORMAP."""
    return tf.constant(shared.voc_colormap2label_codes(np.int32))


def voc_label_indices(colormap, colormap2label):
    """Class ids (H, W) of a label image colormap (H, W, 3) of RGB values 0..255, in the
    lookup's dtype (int32); colours not in VOC_COLORMAP (e.g. the boundaries) give 0."""
    shared.check_colormap(colormap.shape, 2, colormap2label.shape)
    if colormap.dtype != tf.uint8 and tf.size(colormap) > 0:  # uint8 needs no check
        shared.check_colour_values(int(tf.reduce_min(colormap)), int(tf.reduce_max(colormap)))
    colormap = tf.cast(colormap, tf.int32)
    codes = (colormap[:, :, 0] * 256 + colormap[:, :, 1]) * 256 + colormap[:, :, 2]
    return tf.gather(colormap2label, codes)


def voc_rand_crop(feature, label, height, width):
    """The same random (height, width) window of feature (H, W, C) and label (H, W, C'),
    offsets drawn with TensorFlow's global generator."""
    shared.check_crop(feature.shape[:2], label.shape[:2], height, width)
    top = int(tf.random.uniform((), 0, feature.shape[0] - height + 1, dtype=tf.int32))
    left = int(tf.random.uniform((), 0, feature.shape[1] - width + 1, dtype=tf.int32))
    return (feature[top:top + height, left:left + width],
            label[top:top + height, left:left + width])


class VOCSegDataset:
    """VOC2012 segmentation examples at least crop_size = (h, w) large: item i is a random
    (h, w) crop, (feature float32 (h, w, 3) normalised as (x / 255 - rgb_mean) / rgb_std with
    the ImageNet statistics, label int32 (h, w) class ids); prints the example count.

    `features` holds the kept images as read (uint8 HWC); the normalisation is applied to each
    crop.
    """

    def __init__(self, is_train, crop_size, voc_dir):
        self.rgb_mean = tf.constant(shared.VOC_RGB_MEAN, tf.float32)
        self.rgb_std = tf.constant(shared.VOC_RGB_STD, tf.float32)
        self.crop_size = shared.crop_size_of("VOCSegDataset", crop_size)
        features, labels = read_voc_images(voc_dir=voc_dir, is_train=is_train)
        self.features = self.filter(features)
        self.labels = self.filter(labels)
        self.colormap2label = voc_colormap2label()
        print(shared.voc_seg_message(len(self.features)))

    def normalize_image(self, img):
        return (tf.cast(img, tf.float32) / 255 - self.rgb_mean) / self.rgb_std

    def filter(self, imgs):
        keep = shared.large_enough([img.shape[:2] for img in imgs], self.crop_size)
        return [imgs[i] for i in keep]

    def __getitem__(self, idx):
        feature, label = voc_rand_crop(self.features[idx], self.labels[idx], *self.crop_size)
        return self.normalize_image(feature), voc_label_indices(label, self.colormap2label)

    def __len__(self):
        return len(self.features)


def _seg_batches(dataset, batch_size, shuffle):
    """A tf.data.Dataset of (X (B, h, w, 3) float32, Y (B, h, w) int32) from `dataset`'s
    items (a fresh random crop on every pass), the last incomplete batch dropped."""
    height, width = dataset.crop_size
    indices = tf.data.Dataset.range(len(dataset))
    if shuffle:
        indices = indices.shuffle(max(len(dataset), 1))

    def item(i):
        feature, label = tf.py_function(lambda j: dataset[int(j)], [i], (tf.float32, tf.int32))
        return tf.ensure_shape(feature, (height, width, 3)), tf.ensure_shape(label,
                                                                             (height, width))

    return indices.map(item, num_parallel_calls=get_dataloader_workers()).batch(
        batch_size, drop_remainder=True)


def load_data_voc(batch_size, crop_size):
    """(train_iter, test_iter): tf.data.Datasets over VOC2012 (downloaded and extracted),
    X (B, h, w, 3) float32, Y (B, h, w) int32 class ids; the last incomplete batch dropped,
    the training set reshuffled on every pass."""
    checks.positive_int("load_data_voc", "batch_size", batch_size)
    crop_size = shared.crop_size_of("load_data_voc", crop_size)
    voc_dir = shared.voc_dir_of_hub()
    return tuple(_seg_batches(VOCSegDataset(train, crop_size, voc_dir), batch_size, train)
                 for train in (True, False))
