"""Fashion-MNIST (section 3.5): labels and one IDX reader shared by every backend.

The four IDX files are fetched through the same hash-checked `fetch` as `DATA_HUB` files;
`FASHION_MNIST_HUB` maps each split to its `(url, sha1)` pairs and may be pointed at a mirror
(or, in tests, at a loopback server with other files).
"""

import gzip
import os

import numpy as np

from .data_hub import data_dir, fetch
from .tensors import to_numpy

FASHION_MNIST_LABELS = ("t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt",
                        "sneaker", "bag", "ankle boot")

FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
FASHION_MNIST_HUB = {
    "train": ((FASHION_MNIST_URL + "train-images-idx3-ubyte.gz",
               "0cf37b0d40ed5169c6b3aba31069a9770ac9043d"),
              (FASHION_MNIST_URL + "train-labels-idx1-ubyte.gz",
               "236021d52f1e40852b06a4c3008d8de8aef1e40b")),
    "test": ((FASHION_MNIST_URL + "t10k-images-idx3-ubyte.gz",
              "626ed6a7c06dd17c0eec72fa3be1740f146a2863"),
             (FASHION_MNIST_URL + "t10k-labels-idx1-ubyte.gz",
              "17f9ab60e7257a1620f4ad76bbbaf857c3920701")),
}

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4",
               0x0E: ">f8"}


def get_fashion_mnist_labels(labels):
    """Text labels (a list of n strings) of n Fashion-MNIST class ids: a 1-D tensor or array
    (n,), or an iterable of ints or 0-d tensors. Ids must be whole numbers 0-9 (integer or
    float dtype); anything else, and a 0-d or 2-D `labels`, raises ValueError."""
    ids = to_numpy(labels if hasattr(labels, "shape") else list(labels))
    if ids.ndim != 1 or not (np.issubdtype(ids.dtype, np.integer)
                             or np.issubdtype(ids.dtype, np.floating)):
        raise ValueError(f"get_fashion_mnist_labels: labels must be a 1-D sequence of class "
                         f"ids, got shape {ids.shape} of {ids.dtype}")
    with np.errstate(invalid="ignore"):  # NaN compares False: a bad id
        bad = ~((ids >= 0) & (ids < len(FASHION_MNIST_LABELS)) & (ids == np.floor(ids)))
    if bad.any():
        raise ValueError(f"get_fashion_mnist_labels: labels must be class ids 0-9, got "
                         f"{ids[bad].tolist()}")
    return [FASHION_MNIST_LABELS[i] for i in ids.astype(np.int64)]


def read_idx(path):
    """Read a (gzipped) IDX file into a writable NumPy array of its stored shape and dtype
    (tensors made from read-only memory would be undefined behaviour to write to)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = bytearray(f.read())
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"read_idx: {path!r} is not an IDX file (bad magic number)")
    ndim = raw[3]
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    data = np.frombuffer(raw, _IDX_DTYPES[raw[2]], offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"read_idx: {path!r} holds {data.size} values, its header says "
                         f"shape {shape}")
    return data.reshape(shape)


def read_fashion_mnist(train):
    """Images (N, 28, 28) uint8 and labels (N,) uint8 of the train or test split."""
    (images_url, images_sha1), (labels_url, labels_sha1) = FASHION_MNIST_HUB[
        "train" if train else "test"]
    cache_dir = os.path.join(data_dir(), "fashion-mnist")
    images = read_idx(fetch(images_url, images_sha1, cache_dir))
    labels = read_idx(fetch(labels_url, labels_sha1, cache_dir))
    if images.ndim != 3 or labels.shape != images.shape[:1]:
        raise ValueError(f"read_fashion_mnist: images {images.shape} and labels "
                         f"{labels.shape} do not form a dataset")
    return images, labels
