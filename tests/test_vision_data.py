"""The chapter-13 datasets (bananas 13.6, VOC2012 13.9, the Kaggle folders 13.13-13.14) in each
backend: properties beyond the spec's probes (spec/computer_vision.py), on archives written in
the published formats (spec/vision_files.py) and served over loopback."""

import contextlib
import io
import os

import numpy as np
import pytest

from spec import vision_files as vf
from spec.computer_vision import (
    CHANNELS_FIRST,
    EXAMPLES_FIRST,
    VOC_MEAN,
    VOC_STD,
    _hwc,
    voc_label_indices_reference,
)


def _framework_image(b, hwc):
    return b.tensor(np.moveaxis(hwc, -1, 0) if CHANNELS_FIRST[b.name] else hwc)


def _voc_dataset(b, is_train, crop):
    with vf.served("voc2012"), contextlib.redirect_stdout(io.StringIO()) as out:
        voc_dir = b.d2l.download_extract("voc2012", os.path.join("VOCdevkit", "VOC2012"))
        dataset = b.d2l.VOCSegDataset(is_train, crop, voc_dir)
    return dataset, out.getvalue().splitlines()[-1]


def test_voc_features_are_scaled_to_unit_range_before_normalising(backend):
    """(x / 255 - mean) / std: upstream PyTorch left out the / 255 (values near 1000)."""
    dataset, _ = _voc_dataset(backend, False, vf.VOC_CROP)
    name, feature, _, _ = vf.voc().contents["val"][0]  # exactly crop-sized: no randomness
    assert feature.shape[:2] == vf.VOC_CROP, name
    x = _hwc(backend, dataset[0][0], EXAMPLES_FIRST[backend.name])
    np.testing.assert_allclose(x, (feature / 255 - VOC_MEAN) / VOC_STD, rtol=1e-5, atol=1e-5)
    assert np.abs(x).max() < 3


def test_a_crop_larger_than_every_image_leaves_an_empty_dataset(backend):
    dataset, line = _voc_dataset(backend, True, (100, 100))
    assert (len(dataset), line) == (0, "read 0 examples")


def test_voc_rand_crop_draws_every_window(backend):
    """A (3, 4) image cropped to (2, 2) has 6 windows; 150 draws miss one with probability
    about 6 * (5/6)**150 < 1e-11."""
    rows, cols = np.mgrid[0:3, 0:4]
    image = _framework_image(backend, np.stack([rows, cols, rows], -1).astype(np.uint8))
    seen = set()
    for _ in range(150):
        feature, label = backend.d2l.voc_rand_crop(image, image, 2, 2)
        f = _hwc(backend, feature, CHANNELS_FIRST[backend.name])
        assert np.array_equal(f, _hwc(backend, label, CHANNELS_FIRST[backend.name]))
        seen.add((int(f[0, 0, 0]), int(f[0, 0, 1])))
    assert seen == {(t, u) for t in range(2) for u in range(3)}


def test_voc_label_indices_on_a_book_sized_image(backend):
    """A 375 x 500 label image of VOC colours, boundaries and other colours, against a mask
    per class."""
    rng = np.random.default_rng(0)
    pool = np.concatenate([vf.voc_palette()[:21], [(224, 224, 192), (7, 7, 7)]])
    colormap = pool[rng.integers(0, len(pool), (375, 500))].astype(np.uint8)
    expected = np.zeros((375, 500))
    for i, colour in enumerate(vf.voc_palette()[:21]):
        expected[(colormap == colour).all(-1)] = i
    lookup = backend.d2l.voc_colormap2label()
    observed = backend.numpy(backend.d2l.voc_label_indices(
        _framework_image(backend, colormap), lookup))
    np.testing.assert_array_equal(observed, expected)
    np.testing.assert_array_equal(voc_label_indices_reference(colormap[:6, :7]),
                                  expected[:6, :7])


def test_reorg_leaves_extra_files_and_sources_alone(backend, tmp_path):
    """A second run over a tree that already holds other files keeps them; the sources keep
    their bytes; every copy lands once per split."""
    (tmp_path / "train").mkdir()
    (tmp_path / "test").mkdir()
    labels = {"a": "cat", "b": "cat", "c": "dog", "d": "dog"}
    for name in labels:
        (tmp_path / "train" / f"{name}.png").write_bytes(name.encode())
    (tmp_path / "test" / "z.png").write_bytes(b"z")
    extra = tmp_path / "train_valid_test" / "train" / "cat" / "old.png"
    extra.parent.mkdir(parents=True)
    extra.write_bytes(b"old")
    for _ in range(2):
        assert backend.d2l.reorg_train_valid(str(tmp_path), labels, 0.5) == 1
        backend.d2l.reorg_test(str(tmp_path))
    tree = sorted(p.relative_to(tmp_path / "train_valid_test").as_posix()
                  for p in (tmp_path / "train_valid_test").rglob("*.png"))
    assert tree == ["test/unknown/z.png", "train/cat/b.png", "train/cat/old.png",
                    "train/dog/d.png", "train_valid/cat/a.png", "train_valid/cat/b.png",
                    "train_valid/dog/c.png", "train_valid/dog/d.png", "valid/cat/a.png",
                    "valid/dog/c.png"]
    assert [(tmp_path / "train" / f"{n}.png").read_bytes() for n in labels] == [
        b"a", b"b", b"c", b"d"]


def test_reorg_train_valid_names_a_file_without_label(backend, tmp_path):
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "x.png").write_bytes(b"x")
    with pytest.raises(ValueError, match=r"reorg_train_valid: labels .*'x\.png'"):
        backend.d2l.reorg_train_valid(str(tmp_path), {"y": "cat"}, 0.1)
    assert not (tmp_path / "train_valid_test").exists()


@pytest.mark.gpu
def test_voc_label_indices_and_crop_on_the_gpu(gpu_backend):
    b = gpu_backend
    colormap = vf.voc_palette()[np.arange(24).reshape(4, 6) % 21].astype(np.uint8)
    image = _framework_image(b, colormap)
    lookup = b.d2l.voc_colormap2label()
    if b.name == "torch":
        lookup = lookup.to(b.device)
    ids = b.numpy(b.d2l.voc_label_indices(image, lookup))
    np.testing.assert_array_equal(ids, np.arange(24).reshape(4, 6) % 21)
    feature, label = b.d2l.voc_rand_crop(image, image, 2, 3)
    assert np.array_equal(b.numpy(feature), b.numpy(label))


def test_blank_lines_of_label_csv_are_skipped(backend):
    """As pandas (the book's reader) skips them."""
    images, rows = vf.bananas().contents["val"]
    lines = ["img_name,label,xmin,ymin,xmax,ymax", ""]
    lines += [f"{i}.png," + ",".join(str(v) for v in r) for i, r in enumerate(rows)]
    # contents["val"] lists the images in label.csv order: name them 0.png, 1.png, ... again
    members = {"banana-detection/bananas_val/label.csv": "\n\n".join(lines).encode()}
    members.update({f"banana-detection/bananas_val/images/{i}.png": vf.png(image)
                    for i, image in enumerate(images)})
    archive = vf.replaced(vf.bananas(), members)
    with vf.served("banana-detection", archives={"banana-detection": archive}):
        read, targets = backend.d2l.read_data_bananas(False)
    assert len(read) == len(images)
    np.testing.assert_array_equal(backend.numpy(targets), rows[:, None, :] / 256)


@pytest.mark.slow
def test_book_sized_banana_splits_load_in_batches_of_32(backend):
    """1000 training and 100 validation images, as the book's dataset: the printed counts, and
    every batch of load_data_bananas(32) in the framework's layout."""
    rng = np.random.default_rng(1)
    images, _ = vf.banana_split(rng, 10)
    pngs = [vf.png(image) for image in images]  # 10 pictures, each file one of them
    members = {}
    for split, n in (("train", 1000), ("val", 100)):
        rows = rng.integers(0, 200, (n, 5))
        folder = f"banana-detection/bananas_{split}"
        members[f"{folder}/label.csv"] = "\n".join(
            ["img_name,label,xmin,ymin,xmax,ymax"]
            + [f"{i}.png," + ",".join(str(v) for v in r) for i, r in enumerate(rows)]).encode()
        members.update({f"{folder}/images/{i}.png": pngs[i % 10] for i in range(n)})
    archive = vf.Archive(vf.zip_bytes(members), {})
    with vf.served("banana-detection", archives={"banana-detection": archive}), \
            contextlib.redirect_stdout(io.StringIO()) as out:
        train_iter, val_iter = backend.d2l.load_data_bananas(32)
    assert out.getvalue().splitlines()[-2:] == ["read 1000 training examples",
                                               "read 100 validation examples"]
    image_shape = (3, 256, 256) if EXAMPLES_FIRST[backend.name] else (256, 256, 3)
    for data_iter, n in ((train_iter, 1000), (val_iter, 100)):
        sizes = []
        for X, Y in data_iter:
            assert tuple(X.shape[1:]) == image_shape and tuple(Y.shape[1:]) == (1, 5)
            sizes.append(X.shape[0])
        assert sum(sizes) == n and max(sizes) == 32
