"""Small copies of the chapter-13 datasets in their published formats, packed as the real
archives are packed, and served over loopback HTTP as their `DATA_HUB` entries.

* hotdog.zip: hotdog/{train,test}/{hotdog,not-hotdog}/<i>.png
* banana-detection.zip: banana-detection/bananas_{train,val}/label.csv (img_name, label,
  xmin, ymin, xmax, ymax in pixels) and images/<i>.png (256 x 256 RGB)
* VOCtrainval_11-May-2012.tar: VOCdevkit/VOC2012/JPEGImages/<name>.jpg,
  SegmentationClass/<name>.png (palette images, the VOC palette, 255 = object boundary) and
  ImageSets/Segmentation/{train,val}.txt
* kaggle_cifar10_tiny.zip: kaggle_cifar10_tiny/trainLabels.csv (id,label),
  train/<id>.png and test/<id>.png (32 x 32 RGB)
* kaggle_dog_tiny.zip: kaggle_dog_tiny/labels.csv (id,breed), train/<id>.jpg, test/<id>.jpg

The expected contents are kept beside the bytes: pixel arrays as written (PNG is lossless),
JPEG files as PIL decodes them (the spec's decoder), label colours from the palette built here
by the VOC bit-interleaving rule (independent of d2l's VOC_COLORMAP).
"""

import contextlib
import dataclasses
import functools
import hashlib
import io
import tarfile
import zipfile

import numpy as np

from d2l.common import data_hub

from . import support

HUB_FILES = {"hotdog": "hotdog.zip", "banana-detection": "banana-detection.zip",
             "voc2012": "VOCtrainval_11-May-2012.tar", "cifar10_tiny": "kaggle_cifar10_tiny.zip",
             "dog_tiny": "kaggle_dog_tiny.zip"}
REAL_SHA1 = {"hotdog": "fba480ffa8aa7e0febbb511d181409f899b9baa5",
             "banana-detection": "5de26c8fce5ccdea9f91267273464dc968d20d72",
             "voc2012": "4e443f8a2eca6b1dac8a6c57641b67dd40621a49",
             "cifar10_tiny": "2068874e4b9a9f0fb07ebe0ad2b29754449ccacd",
             "dog_tiny": "0cb91d09b814ecdc07b50f31f8dcad3e81d6a86d"}


def png(array, mode=None, palette=None):
    """PNG bytes of a uint8 array (RGB (H, W, 3), or palette indices (H, W) with `palette`)."""
    from PIL import Image

    image = Image.fromarray(np.asarray(array, np.uint8), mode)
    if palette is not None:
        image.putpalette(palette)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def jpeg(array):
    out = io.BytesIO()
    from PIL import Image

    Image.fromarray(np.asarray(array, np.uint8)).save(out, format="JPEG", quality=90)
    return out.getvalue()


def decode(data):
    """The spec's decoder: PIL, converted to RGB, (H, W, 3) uint8."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return np.array(image.convert("RGB"))


def picture(rng, height, width):
    """A smooth random RGB picture (compresses fast, decodes identically)."""
    y, x = np.mgrid[0:height, 0:width]
    base = rng.uniform(0, 255, 3) + rng.uniform(-2, 2, 3) * (y[..., None] + x[..., None])
    return np.clip(base + rng.integers(0, 20, (height, width, 3)), 0, 255).astype(np.uint8)


def zip_bytes(members, compression=zipfile.ZIP_DEFLATED):
    """A zip archive (deflated, with folder entries as upstream's zips have) of {path: bytes}."""
    folders = sorted({p.rsplit("/", i)[0] + "/" for p in members
                      for i in range(1, p.count("/") + 1)})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for folder in folders:
            archive.writestr(folder, b"")
        for path, data in members.items():
            archive.writestr(path, data)
    return out.getvalue()


def tar_bytes(members):
    """An uncompressed tar archive (as VOCtrainval_11-May-2012.tar) of {path: bytes}."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        for path, data in members.items():
            info = tarfile.TarInfo(path)
            info.size, info.mode = len(data), 0o644
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


@dataclasses.dataclass(frozen=True)
class Archive:
    data: bytes
    contents: dict  # what the archive holds, as the tests need it

    @property
    def sha1(self):
        return hashlib.sha1(self.data).hexdigest()


# ------------------------------------------------------------------ 13.2 hotdog


@functools.cache
def hotdog():
    rng = np.random.default_rng(2)
    members = {f"hotdog/{split}/{kind}/{i}.png": png(picture(rng, 12 + i, 10))
               for split in ("train", "test") for kind in ("hotdog", "not-hotdog")
               for i in range(2)}
    return Archive(zip_bytes(members), {"members": sorted(members)})


# ------------------------------------------------------------------ 13.6 banana detection

BANANA_SPLITS = {"train": 8, "val": 3}  # 8: the train split is decoded on threads


def banana_split(rng, n):
    """n 256 x 256 pictures, each with one yellow box; (images, rows (n, 5) int pixels)."""
    images, rows = [], []
    for _ in range(n):
        image = picture(rng, 256, 256)
        x1, y1 = rng.integers(0, 200, 2)
        w, h = rng.integers(10, 56, 2)
        image[y1:y1 + h, x1:x1 + w] = (230, 210, 40)
        images.append(image)
        rows.append([0, x1, y1, x1 + w, y1 + h])
    return images, np.array(rows, dtype=np.int64)


@functools.cache
def bananas():
    """contents[split] = (images uint8 HWC in label.csv order, targets (n, 5) pixels)."""
    rng = np.random.default_rng(6)
    members, contents = {}, {}
    for split, n in BANANA_SPLITS.items():
        images, rows = banana_split(rng, n)
        folder = f"banana-detection/bananas_{split}"
        order = rng.permutation(n)  # label.csv need not list the images in name order
        lines = ["img_name,label,xmin,ymin,xmax,ymax"]
        lines += [f"{i}.png," + ",".join(str(v) for v in rows[i]) for i in order]
        members[f"{folder}/label.csv"] = ("\n".join(lines) + "\n").encode()
        for i, image in enumerate(images):
            members[f"{folder}/images/{i}.png"] = png(image)
        contents[split] = ([images[i] for i in order], rows[order])
    return Archive(zip_bytes(members), contents)


# ------------------------------------------------------------------ 13.9 Pascal VOC2012


def voc_palette():
    """The 256 colours of the VOC palette (bits of the index interleaved into R, G, B, from
    the most significant bit down): index 0 black, 1 (128, 0, 0), ..., 255 (224, 224, 192)."""
    palette = np.zeros((256, 3), dtype=np.int64)
    for index in range(256):
        c = index
        for bit in range(8):
            for channel in range(3):
                palette[index, channel] |= ((c >> channel) & 1) << (7 - bit)
            c >>= 3
    return palette


VOC_SIZES = {"train": {"2007_000032": (30, 40), "2007_000033": (24, 32),
                       "2007_000039": (20, 40), "2007_000042": (36, 28)},
             "val": {"2007_000129": (24, 32), "2007_000170": (26, 35), "2007_000187": (10, 10)}}
VOC_CROP = (24, 32)  # keeps two images of each split


def voc_label(rng, height, width):
    """Palette indices: rectangles of random classes on background, 255 on their borders."""
    index = np.zeros((height, width), dtype=np.uint8)
    for _ in range(3):
        y1, x1 = rng.integers(0, height - 4), rng.integers(0, width - 4)
        y2, x2 = y1 + rng.integers(3, height - y1 + 1), x1 + rng.integers(3, width - x1 + 1)
        index[y1:y2, x1:x2] = 255
        index[y1 + 1:y2 - 1, x1 + 1:x2 - 1] = rng.integers(1, 21)
    return index


@functools.cache
def voc():
    """contents[split] = list of (name, feature uint8 HWC as decoded, label class-index image
    (H, W) with 255 at boundaries, label colours uint8 HWC)."""
    rng = np.random.default_rng(9)
    palette = voc_palette()
    flat_palette = [int(v) for v in palette.reshape(-1)]
    root = "VOCdevkit/VOC2012"
    members, contents = {}, {}
    for split, sizes in VOC_SIZES.items():
        members[f"{root}/ImageSets/Segmentation/{split}.txt"] = (
            "\n".join(sizes) + "\n").encode()
        contents[split] = []
        for name, (h, w) in sizes.items():
            feature = jpeg(picture(rng, h, w))
            index = voc_label(rng, h, w)
            members[f"{root}/JPEGImages/{name}.jpg"] = feature
            members[f"{root}/SegmentationClass/{name}.png"] = png(index, "P", flat_palette)
            contents[split].append((name, decode(feature), index,
                                    palette[index].astype(np.uint8)))
    return Archive(tar_bytes(members), contents)


# ------------------------------------------------------------------ 13.13-13.14 Kaggle

CIFAR_LABELS = ["frog", "truck", "truck", "deer", "deer", "frog", "deer", "frog", "truck",
                "deer", "frog", "truck"]  # 4 of each class


@functools.cache
def cifar10_tiny():
    """contents: 'labels' {id: label}, 'train' {file: bytes}, 'test' {file: bytes}."""
    rng = np.random.default_rng(13)
    root = "kaggle_cifar10_tiny"
    labels = {str(i + 1): label for i, label in enumerate(CIFAR_LABELS)}
    train = {f"{i}.png": png(picture(rng, 32, 32)) for i in labels}
    test = {f"{i}.png": png(picture(rng, 32, 32)) for i in range(1, 6)}
    members = {f"{root}/trainLabels.csv": ("id,label\n" + "".join(
        f"{i},{label}\n" for i, label in labels.items())).encode()}
    members.update({f"{root}/train/{f}": d for f, d in train.items()})
    members.update({f"{root}/test/{f}": d for f, d in test.items()})
    return Archive(zip_bytes(members), {"labels": labels, "train": train, "test": test})


DOG_BREEDS = ["boston_bull", "dingo", "boston_bull", "pekinese", "dingo", "pekinese",
              "boston_bull", "dingo"]


@functools.cache
def dog_tiny():
    """contents: 'labels' {id: breed}, 'train' {file: bytes}, 'test' {file: bytes}."""
    rng = np.random.default_rng(14)
    root = "kaggle_dog_tiny"
    ids = [hashlib.md5(str(i).encode()).hexdigest() for i in range(len(DOG_BREEDS) + 3)]
    labels = dict(zip(ids, DOG_BREEDS))
    train = {f"{i}.jpg": jpeg(picture(rng, 20, 24)) for i in labels}
    test = {f"{i}.jpg": jpeg(picture(rng, 20, 24)) for i in ids[len(DOG_BREEDS):]}
    members = {f"{root}/labels.csv": ("id,breed\n" + "".join(
        f"{i},{breed}\n" for i, breed in labels.items())).encode()}
    members.update({f"{root}/train/{f}": d for f, d in train.items()})
    members.update({f"{root}/test/{f}": d for f, d in test.items()})
    return Archive(zip_bytes(members), {"labels": labels, "train": train, "test": test})


ARCHIVES = {"hotdog": hotdog, "banana-detection": bananas, "voc2012": voc,
            "cifar10_tiny": cifar10_tiny, "dog_tiny": dog_tiny}


@contextlib.contextmanager
def served(*names, archives=None):
    """A `data_sandbox()` serving the generated archives `names` as their DATA_HUB entries
    (URL under DATA_URL, the generated archive's sha1); yields the cache folder. `archives`
    maps a name to other Archive bytes to serve instead. 'Downloading ...' lines are
    discarded."""
    archives = archives or {}
    with support.data_sandbox() as (cache, www, _), \
            contextlib.redirect_stdout(io.StringIO()):
        entries = {}
        for name in names:
            archive = archives.get(name) or ARCHIVES[name]()
            (www / HUB_FILES[name]).write_bytes(archive.data)
            entries[name] = (data_hub.DATA_URL + HUB_FILES[name], archive.sha1)
        with support.patched(data_hub.DATA_HUB, **entries):
            yield cache


def replaced(archive, members):
    """A copy of a zip or tar Archive with some members' bytes replaced ({path: bytes}); zip
    members are stored, not deflated (quicker, and extracted the same way)."""
    data = io.BytesIO(archive.data)
    if zipfile.is_zipfile(data):
        with zipfile.ZipFile(data) as source:
            old = {n: source.read(n) for n in source.namelist() if not n.endswith("/")}
        return Archive(zip_bytes({**old, **members}, zipfile.ZIP_STORED), archive.contents)
    with tarfile.open(fileobj=io.BytesIO(archive.data)) as source:
        old = {m.name: source.extractfile(m).read() for m in source.getmembers()}
    return Archive(tar_bytes({**old, **members}), archive.contents)
