"""Test fixtures the spec's probes and the tests share: a loopback HTTP server, temporary
`DATA_HUB` entries and environment, and Fashion-MNIST-format files with learnable structure.

Nothing here reaches the internet: files are served from a local folder on 127.0.0.1.
"""

import contextlib
import gzip
import http.server
import io
import os
import pathlib
import shutil
import struct
import tempfile
import threading

import numpy as np

from d2l.common import data_hub, fashion_mnist

SHARED_DATA = pathlib.Path(os.environ.get(
    "D2L_SHARED_DATA", pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"))


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(directory):
    """Serve `directory` over HTTP on 127.0.0.1; yields the base URL (ending in '/')."""
    handler = lambda *a, **kw: _QuietHandler(*a, directory=str(directory), **kw)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    # A 10 ms poll: shutdown() waits for the next poll (the default 0.5 s, on every use).
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def environ(**values):
    """Set environment variables for the duration of the block."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update({k: str(v) for k, v in values.items()})
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def patched(mapping, **entries):
    """Replace entries of a dict (e.g. `DATA_HUB`) for the duration of the block."""
    missing = object()
    old = {k: mapping.get(k, missing) for k in entries}
    mapping.update(entries)
    try:
        yield mapping
    finally:
        for k, v in old.items():
            if v is missing:
                mapping.pop(k, None)
            else:
                mapping[k] = v


@contextlib.contextmanager
def data_sandbox():
    """A fresh cache folder as `$D2L_DATA_DIR` and a served folder; yields (cache, www, url).

    Files put into `www` are served at `url`; `$D2L_DATA_URL` points the book's `DATA_URL`
    at that server, so `DATA_HUB` entries download from it.
    """
    with tempfile.TemporaryDirectory() as tmp:
        cache, www = pathlib.Path(tmp, "cache"), pathlib.Path(tmp, "www")
        cache.mkdir()
        www.mkdir()
        with serve(www) as url, environ(D2L_DATA_DIR=cache, D2L_DATA_URL=url):
            yield cache, www, url


def sha1(path):
    return data_hub.file_hash(str(path))


def copy_shared(name, www):
    """Copy the real dataset file `name` from shared/data into the served folder."""
    source = SHARED_DATA / name
    if not source.exists():
        raise FileNotFoundError(f"real data file {source} is missing; set D2L_SHARED_DATA")
    shutil.copy(source, www / name)
    return www / name


def write_idx(path, array):
    """Write a uint8 array as a gzipped IDX file (the format of the MNIST family)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())


def synthetic_fashion_mnist(n, seed):
    """`n` 28 x 28 uint8 images of 10 classes and their labels, with learnable structure.

    Each class has a smooth random prototype; an image is its class prototype, randomly
    brightened and shifted by a pixel, plus noise. Softmax regression separates the classes
    well above the book's 0.7 accuracy bar after a few epochs.
    """
    rng = np.random.default_rng(seed)
    proto_rng = np.random.default_rng(1234)
    coarse = proto_rng.uniform(0, 1, (10, 7, 7))
    prototypes = np.kron(coarse, np.ones((4, 4)))
    labels = rng.integers(0, 10, n)
    shifts = rng.integers(-1, 2, (n, 2))
    images = np.stack([np.roll(prototypes[c], tuple(s), axis=(0, 1))
                       for c, s in zip(labels, shifts)])
    images = images * rng.uniform(0.7, 1.0, (n, 1, 1)) + rng.normal(0, 0.15, images.shape)
    return (np.clip(images, 0, 1) * 255).astype(np.uint8), labels.astype(np.uint8)


@contextlib.contextmanager
def fashion_mnist_files(n_train=600, n_test=200, seed=0):
    """Serve synthetic Fashion-MNIST IDX files and point `FASHION_MNIST_HUB` at them.

    Yields ((train_images, train_labels), (test_images, test_labels)) as written.
    """
    splits = {"train": synthetic_fashion_mnist(n_train, seed),
              "test": synthetic_fashion_mnist(n_test, seed + 1)}
    with data_sandbox() as (_, www, url):
        hub = {}
        for split, (images, labels) in splits.items():
            entries = []
            for kind, array in (("images", images), ("labels", labels)):
                name = f"{split}-{kind}-idx-ubyte.gz"
                write_idx(www / name, array)
                entries.append((url + name, sha1(www / name)))
            hub[split] = tuple(entries)
        with patched(fashion_mnist.FASHION_MNIST_HUB, **hub):
            yield splits["train"], splits["test"]


@contextlib.contextmanager
def shared_data_served(*names):
    """`data_sandbox()` serving the real files `names` of shared/data; yields (cache, www,
    url). Downloads print their 'Downloading ...' line to a discarded buffer."""
    with data_sandbox() as (cache, www, url), contextlib.redirect_stdout(io.StringIO()):
        for name in names:
            copy_shared(name, www)
        yield cache, www, url
