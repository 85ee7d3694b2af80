"""Chapter-13 dataset loaders (13.6, 13.9, 13.13) against upstream d2l 0.16.6, measured side by
side on the same generated files in the published formats; prints a table.

* read_data_bananas over a banana-detection split of --bananas 256 x 256 PNGs;
* read_voc_images, VOCSegDataset construction and one pass of items (crop 320 x 480) over
  --voc book-sized (375 x 500) VOC2012 images;
* voc_label_indices on one 375 x 500 label image;
* reorg_train_valid + reorg_test over --kaggle CIFAR-style files.

    python benchmarks/vision_data.py [--frameworks mxnet,torch,tensorflow] [--repeats 3]

Times are wall-clock seconds, best of --repeats. Upstream is 0.16.6's d2l/{torch,mxnet}.py
loaded by file path from $D2L_UPSTREAM (default /tmp/upstream/d2l); it has no TensorFlow
versions of these functions.
"""

import argparse
import contextlib
import io
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import harness  # noqa: E402

from spec import backends  # noqa: E402
from spec import vision_files as vf  # noqa: E402

CROP = (320, 480)


def best(fn, repeats, d2l):
    """Best wall time of fn() over `repeats` runs; MXNet's asynchronous engine is waited for."""
    sync = d2l.npx.waitall if hasattr(d2l, "npx") else lambda: None
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            fn()
            sync()
        times.append(time.perf_counter() - start)
    return min(times)


def write_archives(folder, n_bananas, n_voc):
    """banana-detection.zip and the VOC tar in `folder`; returns {name: sha1}."""
    rng = np.random.default_rng(0)
    images, rows = vf.banana_split(rng, n_bananas)
    lines = ["img_name,label,xmin,ymin,xmax,ymax"] + [
        f"{i}.png," + ",".join(str(v) for v in r) for i, r in enumerate(rows)]
    members = {}
    for split in ("train", "val"):
        members[f"banana-detection/bananas_{split}/label.csv"] = "\n".join(lines).encode()
        for i, image in enumerate(images):
            members[f"banana-detection/bananas_{split}/images/{i}.png"] = vf.png(image)
    archives = {"banana-detection": vf.Archive(vf.zip_bytes(members), {})}
    palette = [int(v) for v in vf.voc_palette().reshape(-1)]
    root = "VOCdevkit/VOC2012"
    names = [f"2008_{i:06d}" for i in range(n_voc)]
    members = {f"{root}/ImageSets/Segmentation/{s}.txt": "\n".join(names).encode()
               for s in ("train", "val")}
    for name in names:
        members[f"{root}/JPEGImages/{name}.jpg"] = vf.jpeg(vf.picture(rng, 375, 500))
        members[f"{root}/SegmentationClass/{name}.png"] = vf.png(vf.voc_label(rng, 375, 500),
                                                                "P", palette)
    archives["voc2012"] = vf.Archive(vf.tar_bytes(members), {})
    for name, archive in archives.items():
        (folder / vf.HUB_FILES[name]).write_bytes(archive.data)
    return {name: archive.sha1 for name, archive in archives.items()}


def kaggle_tree(folder, n):
    rng = np.random.default_rng(1)
    (folder / "train").mkdir(parents=True)
    (folder / "test").mkdir()
    data = vf.png(vf.picture(rng, 32, 32))
    labels = {str(i): ["cat", "dog", "frog", "ship"][i % 4] for i in range(1, n + 1)}
    for i in labels:
        (folder / "train" / f"{i}.png").write_bytes(data)
        (folder / "test" / f"{i}.png").write_bytes(data)
    return labels


def measure(name, d2l, data, sha1s, args):
    """{task: seconds} of one implementation (ours or upstream's module)."""
    for hub in sha1s:
        d2l.DATA_HUB[hub] = (d2l.DATA_URL + vf.HUB_FILES[hub], sha1s[hub])
    voc_dir = os.path.join(data, "VOCdevkit", "VOC2012")
    d2l.download_extract("voc2012")
    rng = np.random.default_rng(2)
    colormap = vf.voc_palette()[rng.integers(0, 21, (375, 500))].astype(np.uint8)
    label = colormap.transpose(2, 0, 1) if name.endswith("torch") else colormap
    label = backends.Backend(name.split()[-1]).tensor(label)
    lookup = d2l.voc_colormap2label()
    out = {
        "read_data_bananas": best(lambda: d2l.read_data_bananas(True), args.repeats, d2l),
        "read_voc_images": best(lambda: d2l.read_voc_images(voc_dir, True), args.repeats, d2l),
        "voc_label_indices 375x500": best(lambda: d2l.voc_label_indices(label, lookup),
                                          args.repeats, d2l),
    }
    dataset = []
    out["VOCSegDataset()"] = best(
        lambda: dataset.append(d2l.VOCSegDataset(True, CROP, voc_dir)), args.repeats, d2l)
    seg = dataset[-1]
    out["VOCSegDataset items"] = best(lambda: [seg[i] for i in range(len(seg))], args.repeats, d2l)
    dataset.clear()

    def reorg():
        with tempfile.TemporaryDirectory() as tmp:
            labels = kaggle_tree(Path(tmp), args.kaggle)
            d2l.reorg_train_valid(tmp, labels, 0.1)
            d2l.reorg_test(tmp)
    out[f"reorg {args.kaggle} files"] = best(reorg, args.repeats, d2l)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frameworks", default=",".join(backends.installed()))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--bananas", type=int, default=300)
    parser.add_argument("--voc", type=int, default=60)
    parser.add_argument("--kaggle", type=int, default=1000)
    args = parser.parse_args()
    frameworks = [f for f in backends.ORDER if f in args.frameworks.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp, "data")
        data.mkdir()
        work = Path(tmp, "work")
        work.mkdir()
        sha1s = write_archives(data, args.bananas, args.voc)
        os.environ["D2L_DATA_DIR"] = str(data)
        os.chdir(work)  # upstream caches in ../data: the same files
        results = {}
        for fw in frameworks:
            ours = backends.Backend(fw).d2l
            results[f"ours {fw}"] = measure(f"ours {fw}", ours, data, sha1s, args)
            theirs = None if fw == "tensorflow" else harness.upstream(fw)
            if theirs is None:
                print(f"upstream {fw}: not available")
                continue
            results[f"upstream {fw}"] = measure(f"upstream {fw}", theirs, data, sha1s, args)
        shutil.rmtree(data, ignore_errors=True)
    tasks = list(next(iter(results.values())))
    header = f"seconds (best of {args.repeats})"
    print(f"{header:28}" + "".join(f"{k:>18}" for k in results))
    for task in tasks:
        print(f"{task:28}" + "".join(f"{r[task]:18.3f}" for r in results.values()))


if __name__ == "__main__":
    main()
