"""Chapter 4, Multilayer Perceptrons: evaluate_loss (4.4) and the data hub of 4.10."""

import io
import os
import zipfile
from contextlib import redirect_stdout

import numpy as np

from d2l.common import data_hub

from . import support
from .entry import EXACT, Entry, Reject, Tol

KAGGLE = {"kaggle_house_train": ("kaggle_house_pred_train.csv",
                                 "585e9cc93e70b39160e7921475f9bcd7d31219ce", (1460, 81)),
          "kaggle_house_test": ("kaggle_house_pred_test.csv",
                                "fa19780a7b011d9b009e8bff8e99922a8ee2eb90", (1459, 80))}


def _loss_data(seed=0, n=23):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)).astype(np.float32)
    w = rng.normal(size=(3, 1)).astype(np.float32)
    return X, (X @ w + rng.normal(0, 0.5, (n, 1))).astype(np.float32), w


def _evaluate_loss_probe(b):
    X, y, w = _loss_data()
    it = b.d2l.load_array((b.tensor(X), b.tensor(y)), 5, is_train=False)
    net = lambda X: b.d2l.linreg(X, b.tensor(w), 0.0)  # noqa: E731
    return b.d2l.evaluate_loss(net, it, b.d2l.squared_loss)


def _evaluate_loss_expect():
    X, y, w = _loss_data()
    return float(np.mean((X @ w - y) ** 2 / 2))


def _download_probe(b):
    """A DATA_HUB file from the loopback server: printed once, then served from the cache."""
    name, (fname, sha1, _) = "kaggle_house_train", KAGGLE["kaggle_house_train"]
    with support.data_sandbox() as (cache, www, url):
        support.copy_shared(fname, www)
        first, second = io.StringIO(), io.StringIO()
        with redirect_stdout(first):
            path = b.d2l.download(name)
        with redirect_stdout(second):
            again = b.d2l.download(name)
        return [os.path.relpath(path, cache), support.sha1(path) == sha1, path == again,
                first.getvalue() == f"Downloading {path} from {url}{fname}...\n",
                second.getvalue()]


def _download_extract_probe(b):
    with support.data_sandbox() as (cache, www, url):
        with zipfile.ZipFile(www / "toy.zip", "w") as z:
            z.writestr("toy/a.txt", "alpha")
            z.writestr("toy/sub/b.txt", "beta")
        entry = (data_hub.DATA_URL + "toy.zip", support.sha1(www / "toy.zip"))
        with support.patched(b.d2l.DATA_HUB, toy=entry), redirect_stdout(io.StringIO()):
            folder = b.d2l.download_extract("toy")
            sub = b.d2l.download_extract("toy", "toy/sub")
        return [os.path.relpath(folder, cache), os.path.relpath(sub, cache),
                open(os.path.join(folder, "a.txt")).read(),
                open(os.path.join(sub, "b.txt")).read()]


def _download_all_probe(b):
    with support.data_sandbox() as (cache, www, url):
        entries = {}
        for i in range(3):
            (www / f"f{i}.txt").write_text(f"file {i}")
            entries[f"f{i}"] = (url + f"f{i}.txt", support.sha1(www / f"f{i}.txt"))
        saved = dict(b.d2l.DATA_HUB)
        b.d2l.DATA_HUB.clear()
        b.d2l.DATA_HUB.update(entries)
        try:
            with redirect_stdout(io.StringIO()):
                b.d2l.download_all()
        finally:
            b.d2l.DATA_HUB.clear()
            b.d2l.DATA_HUB.update(saved)
        return sorted(os.listdir(cache))


def _hub_probe(b):
    hub = b.d2l.DATA_HUB
    return [hub is data_hub.DATA_HUB,
            {k: list(hub[k]) for k in KAGGLE}]


def _hub_expect():
    return [True, {k: [data_hub.DATA_URL + f, s] for k, (f, s, _) in KAGGLE.items()}]


def _kaggle_probe(name):
    def probe(b):
        import pandas as pd

        fname, sha1, _ = KAGGLE[name]
        with support.data_sandbox() as (_, www, _url):
            support.copy_shared(fname, www)
            with redirect_stdout(io.StringIO()):
                path = b.d2l.download(name)
            return [support.sha1(path) == sha1, list(pd.read_csv(path).shape)]
    return probe


ENTRIES = [
    Entry("evaluate_loss", "4.4", "evaluate_loss(net, data_iter, loss)",
          "Σ loss values / Σ number of loss values over the iterator (PyTorch reshapes y to "
          "the output's shape first). An iterator with no examples raises ValueError naming "
          "data_iter.",
          probe=_evaluate_loss_probe, expect=_evaluate_loss_expect, tol=Tol(1e-5, 1e-6),
          rejects=(Reject("empty iterator", lambda b: (lambda X: X, [], None),
                          match="data_iter"),)),
    Entry("DATA_HUB", "4.10", "DATA_HUB: dict name -> (url, sha1)",
          "One dict shared by every backend (the book's cells add entries to it).",
          probe=_hub_probe, expect=_hub_expect, tol=EXACT),
    Entry("DATA_URL", "4.10", "DATA_URL",
          "http://d2l-data.s3-accelerate.amazonaws.com/ (overridable at download time by "
          "$D2L_DATA_URL).",
          probe=lambda b: b.d2l.DATA_URL,
          expect=lambda: "http://d2l-data.s3-accelerate.amazonaws.com/", tol=EXACT),
    Entry("download", "4.10", "download(name, cache_dir=None)",
          "Fetches DATA_HUB[name] into cache_dir (None: $D2L_DATA_DIR or ../data), printing "
          "'Downloading {fname} from {url}...' on a cache miss only; the SHA-1 is checked "
          "after download and the file written atomically.",
          probe=_download_probe,
          expect=lambda: ["kaggle_house_pred_train.csv", True, True, True, ""], tol=EXACT,
          rejects=(Reject("unregistered name", lambda b: ("no-such-dataset",),
                          match="no-such-dataset"),
                   Reject("name not a string", lambda b: (["kaggle_house_train"],),
                          match="name"))),
    Entry("download_extract", "4.10", "download_extract(name, folder=None)",
          "Downloads, extracts zip/tar next to the archive; returns the folder "
          "(archive name without extension, or base_dir/folder).",
          probe=_download_extract_probe,
          expect=lambda: ["toy", os.path.join("toy", "sub"), "alpha", "beta"], tol=EXACT,
          rejects=(Reject("unregistered name", lambda b: ("no-such-dataset",),
                          match="name"),)),
    Entry("download_all", "4.10", "download_all()", "Downloads every DATA_HUB entry.",
          probe=_download_all_probe, expect=lambda: ["f0.txt", "f1.txt", "f2.txt"],
          tol=EXACT),
    Entry("DATA_HUB['kaggle_house_train']", "4.10", "",
          "kaggle_house_pred_train.csv, sha1 585e9cc9...: the real file (1460 x 81).",
          probe=_kaggle_probe("kaggle_house_train"), expect=lambda: [True, [1460, 81]],
          tol=EXACT),
    Entry("DATA_HUB['kaggle_house_test']", "4.10", "",
          "kaggle_house_pred_test.csv, sha1 fa19780a...: the real file (1459 x 80).",
          probe=_kaggle_probe("kaggle_house_test"), expect=lambda: [True, [1459, 80]],
          tol=EXACT),
]
