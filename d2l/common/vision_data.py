"""Computer-vision datasets of chapter 13, the framework-neutral part: reading the files of the
banana-detection (13.6), Pascal VOC2012 (13.9) and Kaggle CIFAR-10 / dog-breed (13.13-13.14)
datasets, the VOC colour map, and the Kaggle folder reorganisation.

Images are decoded here with PIL, once for every framework, so all three see the same pixels
(MXNet's OpenCV, torchvision's and TensorFlow's JPEG decoders differ in the last bit). Every
image comes out as an RGB array (H, W, 3) of uint8; each backend puts it into its own layout.
A file that cannot be read, or a label file that is malformed, is a ValueError naming the file.
"""

import concurrent.futures
import csv
import math
import numbers
import os
import shutil

import numpy as np

from .checks import positive_int
from .data_hub import download_extract

__all__ = ["VOC_CLASSES", "VOC_COLORMAP", "copyfile", "read_csv_labels", "reorg_test",
           "reorg_train_valid"]

# ------------------------------------------------------------------ 13.6 banana detection

BANANA_SIZE = 256  # the images are 256 x 256; box corners are divided by this
BANANA_COLUMNS = ("img_name", "label", "xmin", "ymin", "xmax", "ymax")


def read_rgb(path, fn):
    """The image file `path` as a writable uint8 array (H, W, 3) in RGB order (palette,
    grey-scale and RGBA files are converted as PIL converts them to 'RGB')."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            return np.array(image.convert("RGB"))
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise ValueError(f"{fn}: cannot read the image file {path!r}: {error}") from None


def read_images(paths, fn):
    """`read_rgb` of every path, in order (decoded on a few threads: PIL releases the GIL)."""
    paths = list(paths)
    if len(paths) < 8:
        return [read_rgb(p, fn) for p in paths]
    workers = min(8, os.cpu_count() or 1)
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda p: read_rgb(p, fn), paths))


def read_banana_labels(csv_path, fn="read_data_bananas"):
    """The rows of a banana-detection `label.csv`: (image file names, targets (N, 5) float64 of
    class, xmin, ymin, xmax, ymax in pixels). The header must have six columns, the first
    img_name (the book reads the other five by position); blank lines are skipped, as pandas
    does."""
    try:
        with open(csv_path, newline="") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"{fn}: cannot read the label file {csv_path!r}: {error}") from None
    if not rows or len(rows[0]) != len(BANANA_COLUMNS) or rows[0][0].strip() != "img_name":
        raise ValueError(f"{fn}: the label file {csv_path!r} must start with a header of six "
                         f"columns such as {','.join(BANANA_COLUMNS)}, got "
                         f"{rows[0] if rows else 'nothing'}")
    names, targets = [], []
    for line, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        try:
            if len(row) != len(BANANA_COLUMNS) or not row[0].strip():
                raise ValueError(f"{len(row)} fields")
            values = [float(v) for v in row[1:]]
            if not all(math.isfinite(v) for v in values):
                raise ValueError("a value that is not finite")
        except ValueError as error:
            raise ValueError(f"{fn}: malformed line {line} of the label file {csv_path!r} "
                             f"({error}): {','.join(row)!r}") from None
        names.append(row[0].strip())
        targets.append(values)
    return names, np.array(targets, dtype=np.float64).reshape(-1, 5)


def read_bananas(is_train=True):
    """The banana-detection split as (images: list of uint8 (256, 256, 3) arrays, targets
    float32 (N, 1, 5) = (class, x1, y1, x2, y2) / 256), in the order of its label.csv."""
    if not isinstance(is_train, (bool, np.bool_)):
        raise ValueError(f"read_data_bananas: is_train must be a bool, got {is_train!r}")
    data_dir = download_extract("banana-detection")
    split = os.path.join(data_dir, "bananas_train" if is_train else "bananas_val")
    names, targets = read_banana_labels(os.path.join(split, "label.csv"))
    images = read_images((os.path.join(split, "images", n) for n in names), "read_data_bananas")
    return images, (targets / BANANA_SIZE).astype(np.float32)[:, None, :]


def banana_message(is_train, n):
    """The line BananasDataset prints."""
    return f"read {n} " + ("training examples" if is_train else "validation examples")


# ------------------------------------------------------------------ 13.9 Pascal VOC2012

VOC_COLORMAP = [[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0], [0, 0, 128],
                [128, 0, 128], [0, 128, 128], [128, 128, 128], [64, 0, 0], [192, 0, 0],
                [64, 128, 0], [192, 128, 0], [64, 0, 128], [192, 0, 128], [64, 128, 128],
                [192, 128, 128], [0, 64, 0], [128, 64, 0], [0, 192, 0], [128, 192, 0],
                [0, 64, 128]]

VOC_CLASSES = ["background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car",
               "cat", "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person",
               "potted plant", "sheep", "sofa", "train", "tv/monitor"]

VOC_RGB_MEAN = (0.485, 0.456, 0.406)  # ImageNet statistics used to normalise the features
VOC_RGB_STD = (0.229, 0.224, 0.225)
VOC_FOLDER = os.path.join("VOCdevkit", "VOC2012")  # inside VOCtrainval_11-May-2012.tar


def read_voc_arrays(voc_dir, is_train=True):
    """(features, labels) of the VOC2012 segmentation split listed in
    ImageSets/Segmentation/{train,val}.txt: lists of uint8 (H, W, 3) RGB arrays, a label image
    (SegmentationClass/<name>.png, decoded to its palette colours) as large as its feature
    image (JPEGImages/<name>.jpg)."""
    fn = "read_voc_images"
    if not isinstance(is_train, (bool, np.bool_)):
        raise ValueError(f"{fn}: is_train must be a bool, got {is_train!r}")
    split = os.path.join(voc_dir, "ImageSets", "Segmentation",
                         "train.txt" if is_train else "val.txt")
    try:
        with open(split) as f:
            names = f.read().split()
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"{fn}: voc_dir {voc_dir!r} has no readable split file {split!r}: "
                         f"{error}") from None
    features = read_images((os.path.join(voc_dir, "JPEGImages", f"{n}.jpg") for n in names), fn)
    label_paths = [os.path.join(voc_dir, "SegmentationClass", f"{n}.png") for n in names]
    labels = read_images(label_paths, fn)
    for feature, label, path in zip(features, labels, label_paths):
        if feature.shape != label.shape:
            raise ValueError(f"{fn}: the label image {path!r} is {label.shape[:2]} pixels, its "
                             f"feature image {feature.shape[:2]}")
    return features, labels


def voc_colormap2label_codes(dtype=np.int64):
    """The VOC lookup vector as a NumPy array (256**3,) of `dtype`: entry
    (R * 256 + G) * 256 + B holds the class id of that colour, every other entry 0."""
    colors = np.array(VOC_COLORMAP, dtype=np.int64)
    lookup = np.zeros(256 ** 3, dtype=dtype)
    lookup[(colors[:, 0] * 256 + colors[:, 1]) * 256 + colors[:, 2]] = np.arange(len(colors))
    return lookup


def check_colormap(colormap_shape, channel_axis, lookup_shape):
    """ValueError unless the label image is 3-D with 3 channels on `channel_axis` and the
    lookup vector has 256**3 entries."""
    if len(colormap_shape) != 3 or colormap_shape[channel_axis] != 3:
        layout = "(3, H, W)" if channel_axis == 0 else "(H, W, 3)"
        raise ValueError(f"voc_label_indices: colormap must be an RGB image {layout}, got "
                         f"shape {tuple(colormap_shape)}")
    if tuple(lookup_shape) != (256 ** 3,):
        raise ValueError(f"voc_label_indices: colormap2label must be the vector of 256**3 "
                         f"entries voc_colormap2label() returns, got shape {tuple(lookup_shape)}")


def check_colour_values(low, high):
    """ValueError unless the colour values (their range low..high) are in 0..255."""
    if not (low >= 0 and high <= 255):
        raise ValueError(f"voc_label_indices: colormap values must lie in 0..255, got "
                         f"{low}..{high}")


def crop_size_of(fn, crop_size):
    """`crop_size` as a tuple (height, width) of positive ints, else ValueError naming it."""
    if (not isinstance(crop_size, (tuple, list)) or len(crop_size) != 2
            or any(isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1
                   for v in crop_size)):
        raise ValueError(f"{fn}: crop_size must be (height, width), two positive ints, got "
                         f"{crop_size!r}")
    return int(crop_size[0]), int(crop_size[1])


def check_crop(feature_hw, label_hw, height, width):
    """ValueError unless (height, width) is a window that fits the feature image (H, W) and
    the label image is as large as the feature image."""
    positive_int("voc_rand_crop", "height", height)
    positive_int("voc_rand_crop", "width", width)
    if tuple(label_hw) != tuple(feature_hw):
        raise ValueError(f"voc_rand_crop: label of {tuple(label_hw)} pixels must be as large as "
                         f"feature, {tuple(feature_hw)}")
    for name, size, limit in (("height", height, feature_hw[0]), ("width", width, feature_hw[1])):
        if size > limit:
            raise ValueError(f"voc_rand_crop: {name} {size} is larger than the image "
                             f"({feature_hw[0]} x {feature_hw[1]} pixels)")


def large_enough(images_hw, crop_size):
    """Indices of the images (given by their (H, W)) at least crop_size in both dims."""
    height, width = crop_size
    return [i for i, (h, w) in enumerate(images_hw) if h >= height and w >= width]


def voc_seg_message(n):
    """The line VOCSegDataset prints."""
    return f"read {n} examples"


def voc_dir_of_hub():
    """Downloads and extracts DATA_HUB['voc2012']; returns its VOCdevkit/VOC2012 folder."""
    return download_extract("voc2012", VOC_FOLDER)


# ------------------------------------------------------------------ 13.13 Kaggle folders


def read_csv_labels(fname):
    """A dict file name (without extension) -> label (both str) of a two-column CSV file with
    a header line, as Kaggle's trainLabels.csv / labels.csv. Each line is split on ',' after
    trailing whitespace is stripped; a line without exactly two non-empty fields is a
    ValueError naming the file and the line."""
    try:
        with open(fname) as f:
            lines = f.readlines()[1:]
    except (OSError, UnicodeDecodeError, TypeError) as error:
        raise ValueError(f"read_csv_labels: cannot read fname {fname!r}: {error}") from None
    labels = {}
    for number, line in enumerate(lines, start=2):
        fields = line.rstrip().split(",")
        if len(fields) != 2 or not all(fields):
            raise ValueError(f"read_csv_labels: line {number} of fname {fname!r} must hold two "
                             f"fields 'name,label', got {line.rstrip()!r}")
        labels[fields[0]] = fields[1]
    return labels


def copyfile(filename, target_dir):
    """Copies the file `filename` into `target_dir` (created if needed); an existing copy of
    the same name there is replaced. Never writes to `filename` itself: a target_dir holding
    that file is a ValueError."""
    if not isinstance(filename, (str, os.PathLike)) or not os.path.isfile(filename):
        raise ValueError(f"copyfile: filename {filename!r} is not a file")
    os.makedirs(target_dir, exist_ok=True)
    target = os.path.join(target_dir, os.path.basename(filename))
    if os.path.exists(target) and os.path.samefile(target, filename):
        raise ValueError(f"copyfile: target_dir {target_dir!r} already holds filename "
                         f"{filename!r} itself")
    shutil.copy(filename, target_dir)


def reorg_train_valid(data_dir, labels, valid_ratio):
    """Copies data_dir/train/* into data_dir/train_valid_test/{train_valid,train,valid}/<label>.

    n_valid = max(1, floor(n * valid_ratio)) with n the size of the rarest class of `labels`.
    Files are taken in name order (the book's os.listdir order is arbitrary); each goes to
    train_valid/<label>, and to valid/<label> while that label has fewer than n_valid
    validation files, else to train/<label>. The source files are only read, and running it
    again gives the same folders. Returns n_valid.
    """
    fn = "reorg_train_valid"
    if (isinstance(valid_ratio, bool) or not isinstance(valid_ratio, numbers.Real)
            or not 0 < valid_ratio < 1):
        raise ValueError(f"{fn}: valid_ratio must be a number in (0, 1), got {valid_ratio!r}")
    if not isinstance(labels, dict) or not labels:
        raise ValueError(f"{fn}: labels must be a non-empty dict name -> label, got "
                         f"{type(labels).__name__}")
    train_dir = os.path.join(data_dir, "train")
    if not os.path.isdir(train_dir):
        raise ValueError(f"{fn}: data_dir {data_dir!r} has no train folder")
    counts = {}
    for label in labels.values():
        counts[label] = counts.get(label, 0) + 1
    n_valid = max(1, math.floor(min(counts.values()) * valid_ratio))
    files = sorted(os.listdir(train_dir))
    unlabelled = [f for f in files if f.split(".")[0] not in labels]
    if unlabelled:
        raise ValueError(f"{fn}: labels has no label for {len(unlabelled)} file(s) of "
                         f"{train_dir!r}, e.g. {unlabelled[0]!r}")
    out = os.path.join(data_dir, "train_valid_test")
    taken = {}
    for name in files:
        label = labels[name.split(".")[0]]
        source = os.path.join(train_dir, name)
        copyfile(source, os.path.join(out, "train_valid", label))
        split = "valid" if taken.get(label, 0) < n_valid else "train"
        if split == "valid":
            taken[label] = taken.get(label, 0) + 1
        copyfile(source, os.path.join(out, split, label))
    return n_valid


def reorg_test(data_dir):
    """Copies every file of data_dir/test into data_dir/train_valid_test/test/unknown (name
    order; the sources are only read)."""
    test_dir = os.path.join(data_dir, "test")
    if not os.path.isdir(test_dir):
        raise ValueError(f"reorg_test: data_dir {data_dir!r} has no test folder")
    target = os.path.join(data_dir, "train_valid_test", "test", "unknown")
    for name in sorted(os.listdir(test_dir)):
        copyfile(os.path.join(test_dir, name), target)
