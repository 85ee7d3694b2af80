"""Framework-neutral saved code, written once and re-exported by every backend."""

import importlib

from .bookkeeping import Accumulator, Timer
from .data_hub import DATA_HUB, DATA_URL, download, download_all, download_extract
from .fashion_mnist import get_fashion_mnist_labels
from .machine_translation import bleu, preprocess_nmt, read_data_nmt, tokenize_nmt, truncate_pad
from .nlp_data import read_imdb, read_snli
from .optimization import Benchmark, annotate, train_2d
from .plotting import (
    Animator,
    plot,
    set_axes,
    set_figsize,
    show_heatmaps,
    show_images,
    use_svg_display,
)
from .recsys import hit_and_auc, read_data_ml100k, split_data_ml100k
from .text import Vocab, count_corpus, load_corpus_time_machine, read_time_machine, tokenize
from .training import accuracy, predict_ch3
from .vision_data import (
    VOC_CLASSES,
    VOC_COLORMAP,
    copyfile,
    read_csv_labels,
    reorg_test,
    reorg_train_valid,
)
from .word2vec_data import (
    RandomGenerator,
    get_centers_and_contexts,
    get_negatives,
    read_ptb,
    subsampling,
)

__all__ = ["Accumulator", "Animator", "DATA_HUB", "DATA_URL", "Timer", "accuracy", "download",
           "download_all", "download_extract", "get_fashion_mnist_labels", "plot",
           "predict_ch3", "set_axes", "set_figsize", "show_images", "use_svg_display"]
__all__ += ["show_heatmaps"]
__all__ += ["Benchmark", "annotate", "train_2d"]
__all__ += ["hit_and_auc", "read_data_ml100k", "split_data_ml100k"]
__all__ += ["Vocab", "bleu", "count_corpus", "load_corpus_time_machine", "preprocess_nmt",
            "read_data_nmt", "read_time_machine", "tokenize", "tokenize_nmt", "truncate_pad"]
__all__ += ["VOC_CLASSES", "VOC_COLORMAP", "copyfile", "read_csv_labels", "reorg_test",
            "reorg_train_valid"]
__all__ += ["read_imdb", "read_snli"]
__all__ += ["RandomGenerator", "get_centers_and_contexts", "get_negatives", "read_ptb",
            "subsampling"]

# Modules the book reaches through `d2l.<name>`; imported on first use to keep
# `import d2l.<framework>` light. "module:attr" names an attribute of a module.
REEXPORTS = {
    "plt": "matplotlib.pyplot", "pd": "pandas", "display": "IPython.display",
    "requests": "requests", "defaultdict": "collections:defaultdict",
    **{m: m for m in ("collections", "hashlib", "math", "os", "random", "re", "shutil", "sys",
                      "tarfile", "time", "zipfile")},
}


def lazy_reexport(module_name, name, extra=None):
    """Resolve `name` of a backend module from REEXPORTS (plus `extra`) on first access;
    `verify` is `d2l.verification.verify` bound to the backend's framework."""
    if name == "verify":
        from ..verification import for_framework

        return for_framework(module_name.rpartition(".")[2])
    target = {**REEXPORTS, **(extra or {})}.get(name)
    if target is None:
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
    module, _, attr = target.partition(":")
    value = importlib.import_module(module)
    return getattr(value, attr) if attr else value
