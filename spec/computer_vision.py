"""Chapter 13, Computer Vision."""

import contextlib
import functools
import hashlib
import io
import os
import pathlib
import re
import tempfile

import numpy as np
from hypothesis import strategies as st

from d2l.common import data_hub

from . import canonical, reference, training_reference
from . import vision_files as vf
from .computational_performance import (
    _framework_parts,
    cifar_like,
    devices_of,
    missing_device,
    run_train_ch13,
)
from .entry import EXACT, Entry, Invalid, Reject, Tol, names

ENTRIES = []

# --- 13.1 Image Augmentation ---
# train_batch_ch13 / train_ch13 from canonical weights against NumPy SGD. Every framework
# takes the step lr * (gradient of the batch-mean loss): MXNet's trainer.step(batch_size)
# divides by the batch size itself, PyTorch and TensorFlow follow the summed loss and get the
# rate lr / batch_size (see `computational_performance._framework_parts`).

CH13_CNN = (("conv", 4, 5, 1, 0), ("sigmoid",), ("avgpool", 4, 4), ("flatten",),
            ("dense", 4))
CH13_SHAPE = (3, 32, 32)


def _batch_data(seed=3):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(8, 1, 3, 4)).astype(np.float32), rng.integers(0, 3, 8)


def _train_batch_probe(b, lr=0.4):
    X, y = _batch_data()
    params = canonical.init_params([12, 5, 3], 2)
    net = canonical.dense_stack(b, params, (1, 3, 4))
    loss, make_trainer = _framework_parts(b, lr, len(y))
    l, correct = b.d2l.train_batch_ch13(net, b.images(X), b.labels(y), loss, make_trainer(net),
                                        [b.device])
    return [float(b.numpy(l)), float(correct), b.d2l.export_params(net)]


def _train_batch_expect(lr=0.4):
    X, y = _batch_data()
    params = {k: v.astype(np.float64) for k, v in canonical.init_params([12, 5, 3], 2).items()}
    new, losses, logits = reference.sgd_step(params, X.reshape(len(X), -1), y, lr)
    return [losses.sum(), reference.accuracy(logits, y), new]


def _ch13_data():
    return cifar_like(64, 11), cifar_like(32, 12)


_CH13_PRINTED = re.compile(r"loss \d+\.\d{3}, train acc \d\.\d{3}, test acc \d\.\d{3}\n"
                           r"\d+\.\d examples/sec on \[.+\]\n$")


def _train_ch13_probe(b, lr=0.3, num_epochs=2):
    train, test = _ch13_data()
    params = canonical.init_model(CH13_CNN, CH13_SHAPE, 5)
    history, printed, _ = run_train_ch13(b, CH13_CNN, params, CH13_SHAPE, train, test, lr,
                                         num_epochs, 16, devices_of(b, 1))
    return [history, bool(_CH13_PRINTED.match(printed))]


def _train_ch13_expect(lr=0.3, num_epochs=2):
    train, test = _ch13_data()
    params = canonical.init_model(CH13_CNN, CH13_SHAPE, 5)
    batches = [(train[0][i:i + 16], train[1][i:i + 16]) for i in range(0, 64, 16)]
    history, _ = training_reference.train_ch6(CH13_CNN, params, batches, test, lr, num_epochs)
    return [history, True]


def _bad_devices(devices):
    return lambda b: (None, None, None, None, None, 1, devices(b))


def _bad_batch_devices(devices):
    return lambda b: (None, b.tensor(np.ones((2, 3), "f")), b.labels(np.zeros(2)), None, None,
                      devices(b))


ENTRIES += [
    Entry("train_batch_ch13", "13.1",
          "M: train_batch_ch13(net, features, labels, loss, trainer, devices, "
          "split_f=d2l.split_batch) | P, T: train_batch_ch13(net, X, y, loss, trainer, "
          "devices)",
          "One step on one minibatch, data parallel over `devices` (MXNet: split_f shards, "
          "kvstore; PyTorch: DataParallel/DistributedDataParallel wrappers; TensorFlow: "
          "MirroredStrategy); returns (loss sum, correct predictions) of the whole batch "
          "(PyTorch: the loss sum as a 0-d tensor). MXNet steps on the batch-mean gradient "
          "(trainer.step(batch_size)), PyTorch and TensorFlow on the summed loss's. Checked "
          "from canonical weights against a NumPy SGD step. An empty device list or a "
          "device the framework does not have raises ValueError naming devices. "
          "(TensorFlow is not in the book.)",
          probe=_train_batch_probe, expect=_train_batch_expect, tol=Tol(1e-4, 1e-5),
          rejects=(Reject("empty device list", _bad_batch_devices(lambda b: []),
                          match="devices"),
                   Reject("a device the framework does not have",
                          _bad_batch_devices(lambda b: [missing_device(b)]),
                          match="devices"))),
    Entry("train_ch13", "13.1",
          "M: train_ch13(net, train_iter, test_iter, loss, trainer, num_epochs, "
          "devices=d2l.try_all_gpus(), split_f=d2l.split_batch) | P: train_ch13(net, "
          "train_iter, test_iter, loss, trainer, num_epochs, devices=d2l.try_all_gpus()) | "
          "T: train_ch13(net, train_iter, test_iter, loss, trainer, num_epochs, "
          "devices=None)",
          "Trains with train_batch_ch13, plots train loss (loss sum / examples) and train "
          "accuracy five times per epoch (every max(1, num_batches // 5) batches: the book's "
          "num_batches // 5 fails below five batches) and the test accuracy per epoch; prints "
          "'loss …, train acc …, test acc …' and '… examples/sec on {devices}'. PyTorch "
          "wraps the net in DataParallel over several CUDA devices, in "
          "DistributedDataParallel inside a process group; TensorFlow (not in the book) takes "
          "a model (one device) or a function building it (called under the MirroredStrategy "
          "of several devices), returns the trained model, and takes devices=None for "
          "try_all_gpus() at call time (at import it would initialize TensorFlow's devices, "
          "after which logical devices cannot be configured). Checked on CIFAR-shaped images "
          "from canonical weights against NumPy SGD for 2 epochs. An empty device list, a "
          "device the framework does not have, or one listed twice raises ValueError naming "
          "devices.",
          probe=_train_ch13_probe, expect=_train_ch13_expect, tol=Tol(1e-4, 1e-5),
          rejects=(Reject("empty device list", _bad_devices(lambda b: []), match="devices"),
                   Reject("a device the framework does not have",
                          _bad_devices(lambda b: [missing_device(b)]), match="devices"))),
]

# --- 13.2 Fine-Tuning (hotdog data) ---
# The vision datasets are checked on small archives written here in the published formats
# (spec/vision_files.py), served over loopback as their DATA_HUB entries. Layouts and dtypes
# differ by framework as the tables below state; observations are put into one layout first.


def _files_under(folder):
    """Every file below `folder`, as sorted '/'-separated relative paths."""
    root = pathlib.Path(folder)
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _hub_probe(name, folder=None):
    def probe(b):
        registered = list(b.d2l.DATA_HUB[name])
        with vf.served(name) as cache:
            path = b.d2l.download_extract(name, folder)
            return [registered, os.path.relpath(path, cache), _files_under(path)]
    return probe


def _hub_expect(name, top, folder=None):
    """The registered (url, sha1), the folder download_extract returns (relative to the cache)
    and the files below it, read from the generated archive's member list."""
    def expect():
        prefix = f"{top}/" if folder is None else f"{top}/{folder}/"
        members = _archive_files(vf.ARCHIVES[name]().data)
        return [[data_hub.DATA_URL + vf.HUB_FILES[name], vf.REAL_SHA1[name]],
                os.path.join(top, folder) if folder else top,
                sorted(m[len(prefix):] for m in members if m.startswith(prefix))]
    return expect


def _archive_files(data):
    import tarfile
    import zipfile

    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return [n for n in archive.namelist() if not n.endswith("/")]
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        return [m.name for m in archive.getmembers() if m.isfile()]


ENTRIES += [
    Entry("DATA_HUB['hotdog']", "13.2", "",
          "hotdog.zip under DATA_URL, sha1 fba480ff...; download_extract('hotdog') gives the "
          "folder hotdog holding train/ and test/, each with hotdog/ and not-hotdog/ images.",
          probe=_hub_probe("hotdog"), expect=_hub_expect("hotdog", "hotdog"), tol=EXACT),
]


# --- 13.6 The Object Detection Dataset ---
# Layout and dtype per framework. read_data_bananas: images M uint8 HWC mxnet.np arrays,
# P uint8 CHW tensors, T uint8 HWC tensors (a list, label.csv order); targets float32
# (N, 1, 5) everywhere. BananasDataset items and load_data_bananas batches: float32 0..255,
# M/P CHW (NCHW), T HWC (NHWC); labels float32 (1, 5) / (B, 1, 5).

CHANNELS_FIRST = {"mxnet": False, "torch": True, "tensorflow": False}  # images as read
EXAMPLES_FIRST = {"mxnet": True, "torch": True, "tensorflow": False}  # dataset items, batches


def _hwc(b, t, channels_first):
    """A framework image (or batch of images) as NumPy channels-last."""
    a = b.numpy(t)
    return np.moveaxis(a, -3, -1) if channels_first else a


def _dtypes(b, tensors, dtype):
    """'ok' when every tensor has `dtype`, else the dtypes found."""
    found = sorted({b.dtype_name(t) for t in tensors})
    return "ok" if found == [dtype] else f"{found} instead of {dtype}"


def _bananas_probe(b):
    out = []
    with vf.served("banana-detection"):
        for is_train in (True, False):
            images, targets = b.d2l.read_data_bananas(is_train)
            out.append([_dtypes(b, images, "uint8"), _dtypes(b, [targets], "float32"),
                        [_hwc(b, i, CHANNELS_FIRST[b.name]) for i in images],
                        b.numpy(targets)])
    return out


def _bananas_expect():
    out = []
    for split in ("train", "val"):
        images, rows = vf.bananas().contents[split]
        out.append(["ok", "ok", images, rows[:, None, :] / 256])
    return out


def _error_seen(call, *words):
    """[error type name, whether the message names every word] of `call()`."""
    try:
        call()
    except Exception as error:  # noqa: BLE001  (its type is the observation)
        return [type(error).__name__, all(names(str(error), w) for w in words)]
    return ["no error", False]


@functools.cache
def _broken_bananas():
    """[(archive, is_train, the word the error must name)]: a label.csv line with a missing
    field, a header that is not the book's, a value that is not a number, images that are not
    PNGs (read alone, and among the threads decoding the training split), an image label.csv
    lists but the archive lacks."""
    csv_path = "banana-detection/bananas_train/label.csv"
    head = "img_name,label,xmin,ymin,xmax,ymax\n"
    cases = [({csv_path: (head + "0.png,0,1,2,3\n").encode()}, True, "label.csv"),
             ({csv_path: b"name,label,x1,y1,x2,y2\n0.png,0,1,2,3,4\n"}, True, "label.csv"),
             ({csv_path: (head + "0.png,0,1,2,3,x\n").encode()}, True, "label.csv"),
             ({"banana-detection/bananas_val/images/1.png": b"not a png"}, False, "1.png"),
             ({"banana-detection/bananas_train/images/5.png": b""}, True, "5.png"),
             ({csv_path: (head + "77.png,0,1,2,3,4\n").encode()}, True, "77.png")]
    return [(vf.replaced(vf.bananas(), members), is_train, word)
            for members, is_train, word in cases]


def _broken_bananas_probe(b):
    seen = []
    for broken, is_train, word in _broken_bananas():
        with vf.served("banana-detection", archives={"banana-detection": broken}):
            seen.append(_error_seen(lambda: b.d2l.read_data_bananas(is_train),  # noqa: B023
                                    "read_data_bananas", word))
    return seen


def _printed(call):
    """(call(), the lines it printed, the download notices left out)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = call()
    return result, [line for line in out.getvalue().splitlines()
                    if not line.startswith("Downloading ")]


def _bananas_dataset_probe(b):
    out = []
    with vf.served("banana-detection"):
        for is_train in (True, False):
            dataset, lines = _printed(lambda: b.d2l.BananasDataset(is_train))  # noqa: B023
            items = [dataset[i] for i in range(len(dataset))]
            out.append([lines, len(dataset), len(dataset.features), len(dataset.labels),
                        _dtypes(b, [x for x, _ in items] + [y for _, y in items], "float32"),
                        [_hwc(b, x, EXAMPLES_FIRST[b.name]) for x, _ in items],
                        [b.numpy(y) for _, y in items]])
    return out


def _bananas_dataset_expect():
    out = []
    for split, word in (("train", "training"), ("val", "validation")):
        images, rows = vf.bananas().contents[split]
        n = len(images)
        out.append([[f"read {n} {word} examples"], n, n, n, "ok",
                    [i.astype(np.float32) for i in images], list(rows[:, None, :] / 256)])
    return out


def _load_bananas_probe(b, batch_size=4):
    with vf.served("banana-detection"), contextlib.redirect_stdout(io.StringIO()):
        train_iter, val_iter = b.d2l.load_data_bananas(batch_size)
        out = []
        for data_iter in (train_iter, val_iter):
            batches = list(data_iter)
            X = np.concatenate([_hwc(b, x, EXAMPLES_FIRST[b.name]) for x, _ in batches])
            Y = np.concatenate([b.numpy(y) for _, y in batches])
            out.append([[len(b.numpy(y)) for _, y in batches],
                        _dtypes(b, [t for batch in batches for t in batch], "float32"), X, Y])
    # The training set comes shuffled: compare it sorted by its (distinct) boxes.
    order = np.lexsort(out[0][3][:, 0, ::-1].T)
    out[0][2], out[0][3] = out[0][2][order], out[0][3][order]
    return out


def _load_bananas_expect(batch_size=4):
    out = []
    for split in ("train", "val"):
        images, rows = vf.bananas().contents[split]
        X, Y = np.stack(images).astype(np.float32), rows[:, None, :] / 256
        if split == "train":
            order = np.lexsort(Y[:, 0, ::-1].T)
            X, Y = X[order], Y[order]
        sizes = [min(batch_size, len(images) - i) for i in range(0, len(images), batch_size)]
        out.append([sizes, "ok", X, Y])
    return out


ENTRIES += [
    Entry("DATA_HUB['banana-detection']", "13.6", "",
          "banana-detection.zip under DATA_URL, sha1 5de26c8f...; download_extract gives the "
          "folder banana-detection holding bananas_train/ and bananas_val/, each a label.csv "
          "and images/<i>.png.",
          probe=_hub_probe("banana-detection"),
          expect=_hub_expect("banana-detection", "banana-detection"), tol=EXACT),
    Entry("read_data_bananas", "13.6", "read_data_bananas(is_train=True)",
          "(images, targets) of bananas_train (is_train) or bananas_val: every image listed in "
          "label.csv, in its order, decoded to RGB (M uint8 HWC mxnet.np arrays, P uint8 CHW "
          "tensors, T uint8 HWC tensors; a list), and targets float32 (N, 1, 5) = (class, "
          "x1, y1, x2, y2) / 256. is_train that is not a bool is a ValueError naming it.",
          probe=_bananas_probe, expect=_bananas_expect, tol=EXACT,
          rejects=(Reject("is_train not a bool", lambda b: ("train",), match="is_train"),)),
    Entry("read_data_bananas (broken files)", "13.6", "read_data_bananas(is_train=True)",
          "A label.csv with a line that is not six fields (name and five numbers; blank "
          "lines are skipped) or a header that is not six columns starting with img_name, an "
          "image file that is not an image, "
          "and an image label.csv lists but the folder lacks: each a ValueError naming the "
          "file.",
          probe=_broken_bananas_probe, expect=lambda: [["ValueError", True]] * 6, tol=EXACT),
    Entry("BananasDataset", "13.6", "BananasDataset(is_train)",
          "Prints 'read {N} training examples' / 'read {N} validation examples'; attributes "
          "features and labels as read_data_bananas gives them; item i = (image float32 in "
          "0..255, M/P CHW, T HWC; label float32 (1, 5)).",
          probe=_bananas_dataset_probe, expect=_bananas_dataset_expect, tol=EXACT),
    Entry("load_data_bananas", "13.6", "load_data_bananas(batch_size)",
          "(train_iter, val_iter): batches X float32 0..255 (M/P (B, 3, 256, 256), T "
          "(B, 256, 256, 3)), Y float32 (B, 1, 5); the last batch may be smaller; training "
          "examples shuffled, validation ones in label.csv order. batch_size that is not a "
          "positive int is a ValueError naming it.",
          probe=_load_bananas_probe, expect=_load_bananas_expect, tol=EXACT,
          rejects=(Reject("batch_size 0", lambda b: (0,), match="batch_size"),)),
]


# --- 13.9 Semantic Segmentation and the Dataset ---
# Layout and dtype per framework. read_voc_images: M uint8 HWC mxnet.np arrays, P uint8 CHW
# tensors, T uint8 HWC tensors. voc_colormap2label: M float32, P int64, T int32, and
# voc_label_indices returns that dtype, (H, W); its colormap is M/T (H, W, 3), P (3, H, W).
# voc_rand_crop crops M/T HWC, P CHW. VOCSegDataset items and load_data_voc batches: feature
# float32 M/P (3, h, w), T (h, w, 3); labels in the lookup's dtype (h, w).

LOOKUP_DTYPES = {"mxnet": "float32", "torch": "int64", "tensorflow": "int32"}
VOC_MEAN, VOC_STD = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
BOUNDARY = (224, 224, 192)  # the colour of palette index 255: not a class, maps to 0


def _voc_dir(b):
    return b.d2l.download_extract("voc2012", os.path.join("VOCdevkit", "VOC2012"))


def _read_voc_probe(b):
    out = []
    with vf.served("voc2012"):
        voc_dir = _voc_dir(b)
        for is_train in (True, False):
            features, labels = b.d2l.read_voc_images(voc_dir, is_train)
            out.append([_dtypes(b, features + labels, "uint8"),
                        [_hwc(b, f, CHANNELS_FIRST[b.name]) for f in features],
                        [_hwc(b, label, CHANNELS_FIRST[b.name]) for label in labels]])
    return out


def _read_voc_expect():
    return [["ok", [f for _, f, _, _ in vf.voc().contents[split]],
             [colours for _, _, _, colours in vf.voc().contents[split]]]
            for split in ("train", "val")]


@functools.cache
def _broken_voc():
    """[(archive, the word the error must name)]: an unreadable label and feature image, a
    label image smaller than its feature image."""
    root = "VOCdevkit/VOC2012"
    cases = [({f"{root}/SegmentationClass/2007_000033.png": b"\x89PNG broken"}, "2007_000033"),
             ({f"{root}/JPEGImages/2007_000039.jpg": b""}, "2007_000039"),
             ({f"{root}/SegmentationClass/2007_000032.png": vf.png(np.zeros((5, 5, 3)))},
              "2007_000032")]
    return [(vf.replaced(vf.voc(), members), word) for members, word in cases]


def _broken_voc_probe(b):
    seen = []
    for broken, word in _broken_voc():
        with vf.served("voc2012", archives={"voc2012": broken}):
            voc_dir = _voc_dir(b)
            seen.append(_error_seen(lambda: b.d2l.read_voc_images(voc_dir),  # noqa: B023
                                    "read_voc_images", word))
    seen.append(_error_seen(lambda: b.d2l.read_voc_images(tempfile.gettempdir()),
                            "read_voc_images", "voc_dir"))
    return seen


def _colormap2label_probe(b):
    lookup = b.d2l.voc_colormap2label()
    a = b.numpy(lookup)
    nonzero = np.flatnonzero(a)
    return [b.dtype_name(lookup) == LOOKUP_DTYPES[b.name], list(a.shape), nonzero,
            a[nonzero]]


def _colormap2label_expect():
    colours = vf.voc_palette()[:21]
    codes = (colours[:, 0] * 256 + colours[:, 1]) * 256 + colours[:, 2]
    order = np.argsort(codes)[1:]  # black (class 0) stores 0
    return [True, [256 ** 3], codes[order], order]


@functools.cache
def _lookup(b):
    """voc_colormap2label() of a backend, made once (a vector of 16.7 million entries)."""
    return b.d2l.voc_colormap2label()


_COLOUR_POOL = np.concatenate([vf.voc_palette()[:21], [BOUNDARY, (1, 2, 3), (128, 0, 1),
                                                      (255, 255, 255)]]).astype(np.uint8)


@st.composite
def label_images(draw):
    """(colormap,): an RGB label image (H, W, 3) uint8 of VOC colours, boundaries and other
    colours."""
    h, w = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    picks = draw(st.lists(st.integers(0, len(_COLOUR_POOL) - 1), min_size=h * w,
                          max_size=h * w))
    return (_COLOUR_POOL[np.array(picks)].reshape(h, w, 3),)


def voc_label_indices_reference(colormap):
    """Pixel by pixel: the class whose VOC colour it is, 0 for any other colour. Images that
    are not (H, W, 3), or values outside 0..255, are invalid."""
    colormap = np.asarray(colormap)
    if colormap.ndim != 3 or colormap.shape[2] != 3:
        raise Invalid("colormap")
    if colormap.size and (colormap.min() < 0 or colormap.max() > 255):
        raise Invalid("colormap")
    classes = {tuple(int(v) for v in c): i for i, c in enumerate(vf.voc_palette()[:21])}
    out = np.zeros(colormap.shape[:2])
    for y in range(colormap.shape[0]):
        for x in range(colormap.shape[1]):
            out[y, x] = classes.get(tuple(int(v) for v in colormap[y, x]), 0)
    return out


def _label_indices_call(b, colormap):
    image = b.tensor(np.moveaxis(colormap, -1, 0) if CHANNELS_FIRST[b.name]
                     and colormap.ndim == 3 else colormap)
    return b.numpy(b.d2l.voc_label_indices(image, _lookup(b)))


def label_image_edges():
    cases = [np.zeros((0, 0, 3), np.uint8), np.zeros((4, 4), np.uint8),
             np.zeros((2, 3, 4), np.uint8), np.full((2, 2, 3), 256, np.int32),
             np.full((2, 2, 3), -1, np.int32), np.array([[[128, 0, 0]]], np.int64)]
    return st.sampled_from(cases).map(lambda c: (c,))


def _rand_crop_probe(b, draws=30, size=(8, 9), crop=(5, 6)):
    """Crops of an image whose pixels hold their own (row, col), with a label holding
    (row, col) + 100: [every crop is a window at the same place in both, windows in range,
    several places drawn, the full-size crop is the image]."""
    rows, cols = np.mgrid[0:size[0], 0:size[1]]
    feature = np.stack([rows, cols, np.full(size, 7)], -1).astype(np.uint8)
    label = (feature + 100).astype(np.uint8)

    def framework(a):
        return b.tensor(np.moveaxis(a, -1, 0) if CHANNELS_FIRST[b.name] else a)

    places, same, full = set(), True, None
    for _ in range(draws):
        f, lab = b.d2l.voc_rand_crop(framework(feature), framework(label), *crop)
        f, lab = _hwc(b, f, CHANNELS_FIRST[b.name]), _hwc(b, lab, CHANNELS_FIRST[b.name])
        top, left = int(f[0, 0, 0]), int(f[0, 0, 1])
        window = (slice(top, top + crop[0]), slice(left, left + crop[1]))
        same &= (f.shape[:2] == crop and np.array_equal(f, feature[window])
                 and np.array_equal(lab, label[window]))
        places.add((top, left))
    f, lab = b.d2l.voc_rand_crop(framework(feature), framework(label), *size)
    full = np.array_equal(_hwc(b, f, CHANNELS_FIRST[b.name]), feature)
    in_range = all(0 <= t <= size[0] - crop[0] and 0 <= u <= size[1] - crop[1]
                   for t, u in places)
    return [bool(same), in_range, len(places) > 3, full]


def _crop_args(b, feature_size=(4, 5), label_size=(4, 5)):
    def image(size):
        a = np.zeros((*size, 3), np.uint8)
        return b.tensor(np.moveaxis(a, -1, 0) if CHANNELS_FIRST[b.name] else a)
    return image(feature_size), image(label_size)


def _normalised(feature):
    return (feature / 255 - VOC_MEAN) / VOC_STD


def _window_found(x, y, feature, label_ids):
    """Whether (x (h, w, 3), y (h, w)) is the normalised feature and the label ids at one same
    place of the image (within float32 rounding)."""
    from numpy.lib.stride_tricks import sliding_window_view

    h, w = y.shape
    if feature.shape[0] < h or feature.shape[1] < w:
        return False
    labels = sliding_window_view(label_ids, (h, w))  # (top, left, h, w)
    features = sliding_window_view(_normalised(feature), (h, w, 3))[:, :, 0]
    same_label = (labels == y).all(axis=(2, 3))
    close = (np.abs(features - x) <= 1e-5 + 1e-5 * np.abs(features)).all(axis=(2, 3, 4))
    return bool((same_label & close).any())


def _ids(index):
    """Class ids of a palette-index label image: 255 (boundary) counts as background."""
    return np.where(index == 255, 0, index)


def _seg_dataset_probe(b, crop=vf.VOC_CROP):
    out = []
    with vf.served("voc2012"):
        voc_dir = _voc_dir(b)
        for is_train in (True, False):
            dataset, lines = _printed(
                lambda: b.d2l.VOCSegDataset(is_train, crop, voc_dir))  # noqa: B023
            items = [dataset[i] for i in range(len(dataset))]
            xs = [_hwc(b, x, EXAMPLES_FIRST[b.name]) for x, _ in items]
            ys = [b.numpy(y) for _, y in items]
            kept = [c for c in vf.voc().contents["train" if is_train else "val"]
                    if c[1].shape[0] >= crop[0] and c[1].shape[1] >= crop[1]]
            out.append([lines, len(dataset), tuple(dataset.crop_size),
                        _dtypes(b, [x for x, _ in items], "float32"),
                        _dtypes(b, [y for _, y in items], LOOKUP_DTYPES[b.name]),
                        [_window_found(x, y, c[1], _ids(c[2])) for x, y, c in zip(xs, ys, kept)],
                        # the images exactly crop-sized give their whole selves
                        [(x, y) for x, y, c in zip(xs, ys, kept) if c[1].shape[:2] == crop]])
    return out


def _seg_dataset_expect(crop=vf.VOC_CROP):
    out = []
    for split in ("train", "val"):
        kept = [c for c in vf.voc().contents[split]
                if c[1].shape[0] >= crop[0] and c[1].shape[1] >= crop[1]]
        out.append([[f"read {len(kept)} examples"], len(kept), crop, "ok", "ok",
                    [True] * len(kept),
                    [(_normalised(c[1]), _ids(c[2])) for c in kept if c[1].shape[:2] == crop]])
    return out


def _load_voc_probe(b, batch_size=2, crop=(10, 10)):
    """Batches of both loaders: sizes, dtypes, and whether each example is a window of one
    image of the split (the validation one of its own image, in order)."""
    with vf.served("voc2012"), contextlib.redirect_stdout(io.StringIO()):
        loaders = b.d2l.load_data_voc(batch_size, crop)
        out = []
        for split, data_iter in zip(("train", "val"), loaders):
            contents = vf.voc().contents[split]
            batches = [(_hwc(b, x, EXAMPLES_FIRST[b.name]), b.numpy(y), b.dtype_name(x),
                        b.dtype_name(y)) for x, y in data_iter]
            xs = [x for batch in batches for x in batch[0]]
            ys = [y for batch in batches for y in batch[1]]
            if split == "train":
                found = [any(_window_found(x, y, c[1], _ids(c[2])) for c in contents)
                         for x, y in zip(xs, ys)]
            else:
                found = [_window_found(x, y, c[1], _ids(c[2]))
                         for x, y, c in zip(xs, ys, contents)]
            out.append([[list(x.shape) for x, _, _, _ in batches],
                        [list(y.shape) for _, y, _, _ in batches],
                        sorted({dx for _, _, dx, _ in batches}),
                        sorted({dy == LOOKUP_DTYPES[b.name] for _, _, _, dy in batches}),
                        found])
    return out


def _load_voc_expect(batch_size=2, crop=(10, 10)):
    out = []
    for split in ("train", "val"):
        n = len(vf.voc().contents[split]) // batch_size * batch_size  # last batch dropped
        batches = n // batch_size
        out.append([[[batch_size, *crop, 3]] * batches, [[batch_size, *crop]] * batches,
                    ["float32"], [True], [True] * n])
    return out


ENTRIES += [
    Entry("DATA_HUB['voc2012']", "13.9", "",
          "VOCtrainval_11-May-2012.tar under DATA_URL, sha1 4e443f8a...; "
          "download_extract('voc2012', 'VOCdevkit/VOC2012') gives the folder holding "
          "JPEGImages/, SegmentationClass/ and ImageSets/Segmentation/{train,val}.txt.",
          probe=_hub_probe("voc2012", os.path.join("VOCdevkit", "VOC2012")),
          expect=_hub_expect("voc2012", "VOCdevkit", "VOC2012"), tol=EXACT),
    Entry("read_voc_images", "13.9", "read_voc_images(voc_dir, is_train=True)",
          "(features, labels) of the names in ImageSets/Segmentation/train.txt (is_train) or "
          "val.txt: JPEGImages/<name>.jpg and SegmentationClass/<name>.png decoded to RGB (the "
          "label's palette colours), M uint8 HWC mxnet.np arrays, P uint8 CHW tensors, T uint8 "
          "HWC tensors. Images are decoded with PIL in every framework, so all three give "
          "the same pixels.",
          probe=_read_voc_probe, expect=_read_voc_expect, tol=EXACT),
    Entry("read_voc_images (broken files)", "13.9", "read_voc_images(voc_dir, is_train=True)",
          "An unreadable label or feature image, a label image of another size than its "
          "feature image: ValueError naming the file; a voc_dir without the split file: "
          "ValueError naming voc_dir.",
          probe=_broken_voc_probe, expect=lambda: [["ValueError", True]] * 4, tol=EXACT),
    Entry("VOC_COLORMAP", "13.9", "VOC_COLORMAP",
          "The first 21 colours of the VOC palette (the bits of the class index interleaved "
          "into R, G, B from the top bit down), as a list of [R, G, B] lists.",
          probe=lambda b: b.d2l.VOC_COLORMAP,
          expect=lambda: vf.voc_palette()[:21].tolist(), tol=EXACT),
    Entry("VOC_CLASSES", "13.9", "VOC_CLASSES",
          "The 21 class names, background first.",
          probe=lambda b: b.d2l.VOC_CLASSES,
          expect=lambda: ["background", "aeroplane", "bicycle", "bird", "boat", "bottle",
                          "bus", "car", "cat", "chair", "cow", "diningtable", "dog", "horse",
                          "motorbike", "person", "potted plant", "sheep", "sofa", "train",
                          "tv/monitor"], tol=EXACT),
    Entry("voc_colormap2label", "13.9", "voc_colormap2label()",
          "A vector (256**3,) holding class i at (R * 256 + G) * 256 + B of VOC_COLORMAP[i], "
          "0 elsewhere; M float32, P int64, T int32.",
          probe=_colormap2label_probe, expect=_colormap2label_expect, tol=EXACT),
    Entry("voc_label_indices", "13.9", "voc_label_indices(colormap, colormap2label)",
          "Class ids (H, W) of an RGB label image (M/T (H, W, 3), P (3, H, W)) through the "
          "lookup vector, in its dtype; colours that are no class (the boundary colour "
          "224, 224, 192 too) give 0. One gather, no loop over pixels. A colormap that is not "
          "3 channels of values 0..255, or a lookup that is not 256**3 long, is a ValueError "
          "naming the argument.",
          reference=voc_label_indices_reference, inputs=label_images, edges=label_image_edges,
          call=_label_indices_call, tol=EXACT,
          rejects=(Reject("short lookup",
                          lambda b: (_crop_args(b)[0], b.tensor(np.zeros(10, np.int32))),
                          match="colormap2label"),)),
    Entry("voc_rand_crop", "13.9", "voc_rand_crop(feature, label, height, width)",
          "The same random (height, width) window of feature and label (M/T HWC, P CHW), "
          "every window equally likely (M: Python's random, P: torch's generator, T: "
          "TensorFlow's); the full size returns the images. height or width larger than the "
          "image or not a positive int, and a label of another size than the feature, are "
          "ValueErrors naming the argument.",
          probe=_rand_crop_probe, expect=lambda: [True, True, True, True], tol=EXACT,
          rejects=(Reject("height > H", lambda b: (*_crop_args(b), 5, 5), match="height"),
                   Reject("width > W", lambda b: (*_crop_args(b), 4, 6), match="width"),
                   Reject("height 0", lambda b: (*_crop_args(b), 0, 2), match="height"),
                   Reject("label size", lambda b: (*_crop_args(b, label_size=(4, 4)), 2, 2),
                          match="label"))),
    Entry("VOCSegDataset", "13.9", "VOCSegDataset(is_train, crop_size, voc_dir)",
          "Keeps the images at least crop_size = (h, w) in both dims, prints "
          "'read {N} examples'; item i = a random (h, w) window of image i: feature "
          "(x / 255 - mean) / std with the ImageNet mean (0.485, 0.456, 0.406) and std "
          "(0.229, 0.224, 0.225), float32 M/P (3, h, w), T (h, w, 3); label class ids (h, w) "
          "at the same place, M float32, P int64, T int32. Fixes upstream PyTorch, which "
          "normalised the 0..255 values without dividing by 255. Attributes crop_size, "
          "features and labels (the kept images as read; each crop is normalised when "
          "taken), colormap2label; M/T rgb_mean, rgb_std, P transform. crop_size that is not "
          "two positive ints is a ValueError naming it.",
          probe=_seg_dataset_probe, expect=_seg_dataset_expect, tol=Tol(1e-5, 1e-5),
          rejects=(Reject("crop_size (0, 5)", lambda b: (True, (0, 5), "no-such-dir"),
                          match="crop_size"),)),
    Entry("load_data_voc", "13.9", "load_data_voc(batch_size, crop_size)",
          "(train_iter, test_iter) over DATA_HUB['voc2012'] (folder VOCdevkit/VOC2012): "
          "batches of VOCSegDataset items (M/P (B, 3, h, w), T (B, h, w, 3)), the last "
          "incomplete batch dropped, training examples shuffled, test ones in val.txt order; "
          "get_dataloader_workers() workers. batch_size or crop_size out of range is a "
          "ValueError naming it.",
          probe=_load_voc_probe, expect=_load_voc_expect, tol=EXACT,
          rejects=(Reject("batch_size 0", lambda b: (0, (4, 4)), match="batch_size"),
                   Reject("crop_size int", lambda b: (2, 4), match="crop_size"))),
]


# --- 13.13 Image Classification (CIFAR-10) on Kaggle ---
# Neutral code (d2l/common/vision_data.py): the same functions in every framework.

_FIELD = st.text(st.sampled_from("abz09_-. "), min_size=1, max_size=5)


@st.composite
def label_files(draw):
    """(text of a labels CSV,): a header and 'name,label' lines (labels may end in spaces,
    which are stripped), LF or CRLF line ends."""
    rows = draw(st.lists(st.tuples(_FIELD, _FIELD.filter(lambda s: s.rstrip())), max_size=6))
    end = draw(st.sampled_from(["\n", "\r\n"]))
    return ("id,label" + end + "".join(f"{n},{v}{end}" for n, v in rows),)


def read_csv_labels_reference(text):
    """Line by line after the header: trailing whitespace off, split on ','; anything but
    two non-empty fields is invalid."""
    out = {}
    for line in text.splitlines()[1:]:
        fields = line.rstrip().split(",")
        if len(fields) != 2 or not fields[0] or not fields[1]:
            raise Invalid("fname")
        out[fields[0]] = fields[1]
    return out


def _read_csv_labels_call(b, text):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "labels.csv")
        with open(path, "w", newline="") as f:
            f.write(text)
        return b.d2l.read_csv_labels(path)


def label_file_edges():
    return st.sampled_from(["", "id,label\n", "id,label\na,b,c\n", "id,label\na\n",
                            "id,label\na,b\n\nc,d\n", "id,label\n,b\n", "id,label\na,\n",
                            "id,label\na,b  \n"]).map(lambda t: (t,))


def _copyfile_probe(b):
    with tempfile.TemporaryDirectory() as tmp:
        source = pathlib.Path(tmp, "train", "7.png")
        source.parent.mkdir()
        source.write_bytes(b"seven")
        target = pathlib.Path(tmp, "out", "a", "b")
        b.d2l.copyfile(str(source), str(target))
        (target / "7.png").write_bytes(b"stale")
        b.d2l.copyfile(str(source), str(target))  # replaces the stale copy
        return [_files_under(tmp), (target / "7.png").read_bytes(), source.read_bytes(),
                _error_seen(lambda: b.d2l.copyfile(str(source), str(source.parent)),
                            "copyfile", "target_dir"),
                _error_seen(lambda: b.d2l.copyfile(str(source) + "x", tmp),
                            "copyfile", "filename"),
                source.read_bytes()]


def _digests(folder):
    return {p: hashlib.sha1((pathlib.Path(folder) / p).read_bytes()).hexdigest()
            for p in _files_under(folder)}


def _reorg_probe(b, name="cifar10_tiny", csv_name="trainLabels.csv", valid_ratio=0.5):
    """Reorganises twice; [n_valid of each run, the files made, whether every copy equals its
    source, whether the sources are untouched]."""
    with vf.served(name):
        data_dir = b.d2l.download_extract(name)
        labels = b.d2l.read_csv_labels(os.path.join(data_dir, csv_name))
        before = _digests(data_dir)
        runs = []
        for _ in range(2):
            n_valid = b.d2l.reorg_train_valid(data_dir, labels, valid_ratio)
            b.d2l.reorg_test(data_dir)
            made = _digests(os.path.join(data_dir, "train_valid_test"))
            runs.append([n_valid, sorted(made)])
        after = _digests(data_dir)
        copies_equal = all(
            digest == before["train/" + p.rsplit("/", 1)[1]]
            if not p.startswith("test/") else digest == before["test/" + p.rsplit("/", 1)[1]]
            for p, digest in made.items())
        untouched = all(after[p] == d for p, d in before.items())
        return [labels, runs, copies_equal, untouched]


def _reorg_test_probe(b):
    """reorg_test twice: [the files made each time, whether they and the sources hold the
    sources' bytes]."""
    with vf.served("cifar10_tiny"):
        data_dir = b.d2l.download_extract("cifar10_tiny")
        before = _digests(os.path.join(data_dir, "test"))
        runs = []
        for _ in range(2):
            b.d2l.reorg_test(data_dir)
            runs.append(_digests(os.path.join(data_dir, "train_valid_test")))
        return [[sorted(made) for made in runs],
                runs[1] == {f"test/unknown/{p}": d for p, d in before.items()},
                _digests(os.path.join(data_dir, "test")) == before]


def _reorg_test_expect():
    made = sorted(f"test/unknown/{file}" for file in vf.cifar10_tiny().contents["test"])
    return [[made, made], True, True]


def _reorg_expect(name="cifar10_tiny", valid_ratio=0.5):
    """The split written from the book's rule, files taken in name order."""
    contents = vf.ARCHIVES[name]().contents
    labels = contents["labels"]
    counts = {}
    for label in labels.values():
        counts[label] = counts.get(label, 0) + 1
    n_valid = max(1, int(min(counts.values()) * valid_ratio))
    paths, taken = [], {}
    for file in sorted(contents["train"]):
        label = labels[file.split(".")[0]]
        paths.append(f"train_valid/{label}/{file}")
        if taken.get(label, 0) < n_valid:
            taken[label] = taken.get(label, 0) + 1
            paths.append(f"valid/{label}/{file}")
        else:
            paths.append(f"train/{label}/{file}")
    paths += [f"test/unknown/{file}" for file in contents["test"]]
    run = [n_valid, sorted(paths)]
    return [labels, [run, run], True, True]


ENTRIES += [
    Entry("DATA_HUB['cifar10_tiny']", "13.13", "",
          "kaggle_cifar10_tiny.zip under DATA_URL, sha1 2068874e...; download_extract gives "
          "the folder kaggle_cifar10_tiny holding trainLabels.csv (id,label), train/<id>.png "
          "and test/<id>.png.",
          probe=_hub_probe("cifar10_tiny"),
          expect=_hub_expect("cifar10_tiny", "kaggle_cifar10_tiny"), tol=EXACT),
    Entry("read_csv_labels", "13.13", "read_csv_labels(fname)",
          "dict name -> label (str) of the lines after the header, each split on ',' once "
          "trailing whitespace is stripped. A line that is not two non-empty fields "
          "(a blank line too) is a ValueError naming fname and the line; so is a file that "
          "cannot be read.",
          reference=read_csv_labels_reference, inputs=label_files, edges=label_file_edges,
          call=_read_csv_labels_call, tol=EXACT,
          rejects=(Reject("missing file", lambda b: (os.path.join(tempfile.gettempdir(),
                                                                  "no-such.csv"),),
                          match="fname"),)),
    Entry("copyfile", "13.13", "copyfile(filename, target_dir)",
          "Creates target_dir (and its parents) if needed and copies filename into it, "
          "replacing an older copy there. filename that is not a file, and a target_dir that "
          "holds filename itself (it would be overwritten), are ValueErrors naming them.",
          probe=_copyfile_probe,
          expect=lambda: [["out/a/b/7.png", "train/7.png"], b"seven", b"seven",
                          ["ValueError", True], ["ValueError", True], b"seven"], tol=EXACT),
    Entry("reorg_train_valid", "13.13", "reorg_train_valid(data_dir, labels, valid_ratio)",
          "n_valid = max(1, floor(n * valid_ratio)), n the size of the rarest class; every "
          "file of data_dir/train, in name order (upstream: os.listdir order), is copied to "
          "train_valid_test/train_valid/<label> and to valid/<label> while that label has "
          "fewer than n_valid there, else to train/<label>. Returns n_valid. Idempotent; the "
          "sources are never written. valid_ratio outside (0, 1), empty labels, a file "
          "without a label, a data_dir without train/ are ValueErrors naming the argument.",
          probe=_reorg_probe, expect=_reorg_expect, tol=EXACT,
          rejects=(Reject("valid_ratio 1.5", lambda b: ("no-such-dir", {"1": "cat"}, 1.5),
                          match="valid_ratio"),
                   Reject("empty labels", lambda b: ("no-such-dir", {}, 0.1), match="labels"),
                   Reject("no train folder", lambda b: ("no-such-dir", {"1": "cat"}, 0.1),
                          match="data_dir"))),
    Entry("reorg_test", "13.13", "reorg_test(data_dir)",
          "Copies every file of data_dir/test into train_valid_test/test/unknown; idempotent, "
          "the sources never written; a data_dir without test/ is a ValueError naming it.",
          probe=_reorg_test_probe, expect=_reorg_test_expect, tol=EXACT,
          rejects=(Reject("no test folder", lambda b: ("no-such-dir",), match="data_dir"),)),
]


# --- 13.14 Dog Breed Identification (ImageNet Dogs) on Kaggle ---

ENTRIES += [
    Entry("DATA_HUB['dog_tiny']", "13.14", "",
          "kaggle_dog_tiny.zip under DATA_URL, sha1 0cb91d09...; download_extract gives the "
          "folder kaggle_dog_tiny holding labels.csv (id,breed), train/<id>.jpg and "
          "test/<id>.jpg.",
          probe=_hub_probe("dog_tiny"), expect=_hub_expect("dog_tiny", "kaggle_dog_tiny"),
          tol=EXACT),
    Entry("DATA_HUB['dog_tiny'] (reorganised)", "13.14", "",
          "The book's reorg_dog_data: read_csv_labels(labels.csv), reorg_train_valid with "
          "valid_ratio 0.1, reorg_test.",
          probe=functools.partial(_reorg_probe, name="dog_tiny", csv_name="labels.csv",
                                  valid_ratio=0.1),
          expect=functools.partial(_reorg_expect, name="dog_tiny", valid_ratio=0.1),
          tol=EXACT),
]
