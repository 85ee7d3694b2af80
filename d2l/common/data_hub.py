"""Dataset registry and hash-checked downloads (section 4.10), shared by every backend.

`DATA_HUB` maps a dataset name to `(url, sha1)`; the book's cells add entries to this one dict
before calling `download(name)`. Environment variables:

* `D2L_DATA_DIR`: the default cache folder (otherwise `../data`, relative to the working
  directory, as in the book's notebooks);
* `D2L_DATA_URL`: a mirror that replaces the `DATA_URL` prefix of registered URLs.
"""

import hashlib
import os
import tarfile
import time
import zipfile

PROGRESS_MIN_BYTES = 10 * 2**20  # downloads show a progress bar from this size on...
PROGRESS_AFTER_S = 2.0  # ...or once they have run this many seconds

DATA_HUB = {}
DATA_URL = "http://d2l-data.s3-accelerate.amazonaws.com/"

DATA_HUB["kaggle_house_train"] = (
    DATA_URL + "kaggle_house_pred_train.csv", "585e9cc93e70b39160e7921475f9bcd7d31219ce")
DATA_HUB["kaggle_house_test"] = (
    DATA_URL + "kaggle_house_pred_test.csv", "fa19780a7b011d9b009e8bff8e99922a8ee2eb90")
DATA_HUB["time_machine"] = (
    DATA_URL + "timemachine.txt", "090b5e7e70c295757f55df93cb0a180b9691891a")
DATA_HUB["fra-eng"] = (
    DATA_URL + "fra-eng.zip", "94646ad1522d915e7b0f9296181140edcf86a4f5")
# --- 11.5 airfoil noise (get_data_ch11) and 17.2 Pokemon sprites
DATA_HUB["airfoil"] = (
    DATA_URL + "airfoil_self_noise.dat", "76e5be1548fd8222e5074cf0faae75edff8cf93f")
DATA_HUB["pokemon"] = (
    DATA_URL + "pokemon.zip", "c065c0e2593b8b161a2d7873e42418bf6a21106c")

# --- 13.2-13.14 computer-vision datasets ---
DATA_HUB["hotdog"] = (DATA_URL + "hotdog.zip", "fba480ffa8aa7e0febbb511d181409f899b9baa5")
DATA_HUB["banana-detection"] = (
    DATA_URL + "banana-detection.zip", "5de26c8fce5ccdea9f91267273464dc968d20d72")
DATA_HUB["voc2012"] = (
    DATA_URL + "VOCtrainval_11-May-2012.tar", "4e443f8a2eca6b1dac8a6c57641b67dd40621a49")
DATA_HUB["cifar10_tiny"] = (
    DATA_URL + "kaggle_cifar10_tiny.zip", "2068874e4b9a9f0fb07ebe0ad2b29754449ccacd")
DATA_HUB["dog_tiny"] = (
    DATA_URL + "kaggle_dog_tiny.zip", "0cb91d09b814ecdc07b50f31f8dcad3e81d6a86d")

# --- 14.3 / 14.7 PTB for word2vec; pretrained GloVe / fastText vectors (each zip holds
# <name>/vec.txt) ---
DATA_HUB["ptb"] = (DATA_URL + "ptb.zip", "319d85e578af0cdc590547f26231e4e31cdf1e42")
DATA_HUB["glove.6b.50d"] = (
    DATA_URL + "glove.6B.50d.zip", "0b8703943ccdb6eb788e6f091b8946e82231bc4d")
DATA_HUB["glove.6b.100d"] = (
    DATA_URL + "glove.6B.100d.zip", "cd43bfb07e44e6f27cbcc7bc9ae3d80284fdaf5a")
DATA_HUB["glove.42b.300d"] = (
    DATA_URL + "glove.42B.300d.zip", "b5116e234e9eb9076672cfeabf5469f3eec904fa")
DATA_HUB["wiki.en"] = (DATA_URL + "wiki.en.zip", "c1816da3821ae9f43899be655002f6c723e91b88")

# --- 15.1, 15.4: sentiment analysis and natural language inference ---
DATA_HUB["aclImdb"] = (
    "http://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
    "01ada507287d82875905620988597833ad4e0903")
DATA_HUB["SNLI"] = (
    "https://nlp.stanford.edu/projects/snli/snli_1.0.zip",
    "9fcde07509c7e87ec61c640c1b2753d9041758e4")

# --- 16 Recommender Systems (16.2, 16.8) ---
DATA_HUB["ml-100k"] = ("http://files.grouplens.org/datasets/movielens/ml-100k.zip",
                       "cd4dcac4241c8a4ad7badc7ca635da8a69dddb83")
DATA_HUB["ctr"] = (DATA_URL + "ctr.zip", "e18327c48c8e8e5c23da714dd614e390d369843f")

# --- 14.9 The Dataset for Pretraining BERT ---
DATA_HUB["wikitext-2"] = (
    "https://s3.amazonaws.com/research.metamind.io/wikitext/wikitext-2-v1.zip",
    "3c914d17d80b1459be871a5039ac23e752a53cbe")


def data_dir():
    """The default cache folder: `$D2L_DATA_DIR`, else `../data`."""
    return os.environ.get("D2L_DATA_DIR", os.path.join("..", "data"))


def resolve_url(url):
    """`url` with its `DATA_URL` prefix replaced by the mirror in `$D2L_DATA_URL`, if set."""
    mirror = os.environ.get("D2L_DATA_URL")
    if mirror and url.startswith(DATA_URL):
        return mirror.rstrip("/") + "/" + url[len(DATA_URL):]
    return url


def file_hash(path, algorithm="sha1"):
    """Hex digest of a file, read in 1 MiB chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class _Progress:
    """A progress bar for pooch's `HTTPDownloader` (which sets `total` and calls `update`,
    `reset`, `close`): a notebook-aware `tqdm.auto` bar on stderr, opened only once the file
    proves large (`PROGRESS_MIN_BYTES`) or the transfer slow (`PROGRESS_AFTER_S`), or at
    the first chunk when `always`."""

    def __init__(self, desc, always):
        self.desc, self.always = desc, always
        self.total, self.done, self.bar = 0, 0, None
        self.start = time.monotonic()

    def update(self, n):
        if self.bar is None and (self.always or self.total >= PROGRESS_MIN_BYTES
                                 or time.monotonic() - self.start >= PROGRESS_AFTER_S):
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.total or None, initial=self.done, desc=self.desc,
                            unit="B", unit_scale=True, unit_divisor=1024, leave=True)
        self.done += n
        if self.bar is not None:
            self.bar.update(n)

    def reset(self):
        self.done = 0
        if self.bar is not None:
            self.bar.reset(total=self.total or None)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def fetch(url, sha1, cache_dir=None, always_progress=False):
    """Download `url` into `cache_dir` unless a file with the right SHA-1 is there already.

    The file is written under a temporary name and renamed only after its SHA-1 matched, so
    an interrupted or corrupted download leaves nothing behind; a mismatch raises ValueError.
    Large or slow downloads show a progress bar on stderr (every download does with
    `always_progress=True`). Returns the local path (the URL's last component inside
    `cache_dir`).
    """
    cache_dir = data_dir() if cache_dir is None else cache_dir
    os.makedirs(cache_dir, exist_ok=True)
    fname = os.path.join(cache_dir, url.split("/")[-1])
    if os.path.exists(fname) and file_hash(fname) == sha1:
        return fname
    url = resolve_url(url)
    print(f"Downloading {fname} from {url}...")
    import pooch

    pooch.get_logger().setLevel("WARNING")
    progress = _Progress(os.path.basename(fname), always_progress)
    downloader = pooch.HTTPDownloader(progressbar=progress, chunk_size=2**18)
    return pooch.retrieve(url, known_hash=f"sha1:{sha1}", fname=os.path.basename(fname),
                          path=cache_dir, downloader=downloader)


def download(name, cache_dir=None):
    """Download the `DATA_HUB` file `name` into `cache_dir` (default: `data_dir()`).

    Returns the local path. A cached copy with the registered SHA-1 is reused silently;
    otherwise prints `Downloading {fname} from {url}...` and fetches it (see `fetch`).
    """
    url, sha1 = _registered("download", name)
    return fetch(url, sha1, cache_dir)


def _registered(fn, name):
    """The (url, sha1) of `DATA_HUB[name]`; ValueError naming `fn` and `name` when `name` is
    not a registered string."""
    if not isinstance(name, str) or name not in DATA_HUB:
        raise ValueError(f"{fn}: name {name!r} is not registered in DATA_HUB "
                         f"(registered: {', '.join(sorted(DATA_HUB))})")
    return DATA_HUB[name]


def _check_members(names, base_dir, archive):
    """Raise ValueError if any archive member would land outside `base_dir`."""
    root = os.path.realpath(base_dir)
    for member in names:
        target = os.path.realpath(os.path.join(root, member))
        if os.path.commonpath([root, target]) != root:
            raise ValueError(f"download_extract: archive {archive!r} has a member {member!r} "
                             f"that would be written outside {base_dir!r}")


def download_extract(name, folder=None):
    """Download a zip or tar `DATA_HUB` file and extract it next to the archive.

    Returns `base_dir/folder` when `folder` is given, else the archive path without its last
    extension (`../data/fra-eng` for `fra-eng.zip`). Archives with members that would land
    outside the cache folder (absolute paths, `..`, links pointing outside) are refused with
    ValueError before anything is written.
    """
    _registered("download_extract", name)
    fname = download(name)
    base_dir = os.path.dirname(fname)
    data_path, ext = os.path.splitext(fname)
    if ext == ".zip":
        with zipfile.ZipFile(fname, "r") as archive:
            _check_members(archive.namelist(), base_dir, fname)
            archive.extractall(base_dir)
    elif ext in (".tar", ".gz"):
        with tarfile.open(fname, "r") as archive:
            members = archive.getmembers()
            _check_members([m.name for m in members], base_dir, fname)
            link_targets = [os.path.join(os.path.dirname(m.name), m.linkname) if m.issym()
                            else m.linkname for m in members if m.issym() or m.islnk()]
            _check_members(link_targets, base_dir, fname)
            archive.extractall(base_dir, filter="data")
    else:
        raise ValueError(f"download_extract: only zip/tar files can be extracted, got {fname!r}")
    return os.path.join(base_dir, folder) if folder else data_path


def download_all():
    """Download every file registered in `DATA_HUB`."""
    for name in DATA_HUB:
        download(name)
