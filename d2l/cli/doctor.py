"""`d2l doctor`: what this environment offers the book's code, and how to fix what it lacks.

Reports Python, numpy and framework versions, whether each framework and its `d2l` backend
import (each in a subprocess of its own, so a crash is reported rather than fatal), which
GPUs each framework sees, which Keras `tf.keras` is, the numpy limit of MXNet, the import
order MXNet and TensorFlow need in one process, and the data cache. Always exits 0.
"""

import concurrent.futures
import importlib.metadata
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys

import d2l
from d2l.common import data_hub

FRAMEWORKS = ("mxnet", "torch", "tensorflow")
INSTALL = {"mxnet": 'pip install mxnet==1.9.1 "numpy<1.24"',
           "torch": "pip install torch==2.14.1 torchvision==0.29.1",
           "tensorflow": 'pip install "tensorflow-cpu>=2.17"'}
GPUS = {"mxnet": "[f'gpu({i})' for i in range(mxnet.context.num_gpus())]",
        "torch": "[torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]",
        "tensorflow": "[d.name for d in tensorflow.config.list_physical_devices('GPU')]"}
KERAS = ("keras_module = tensorflow.keras.__name__.split('.')[0]\n"
         "info['keras'] = [keras_module, importlib.import_module(keras_module).__version__]\n")
PROBE = """import importlib, json
import {fw}
info = {{'version': {fw}.__version__, 'gpus': {gpus}}}
{keras}print(json.dumps(info), flush=True)
from d2l import {fw}
print('d2l imports')
"""
MIN_FREE = 2**30  # warn below 1 GiB free in the data cache


def register(subparsers):
    subparsers.add_parser("doctor", help="check Python, frameworks, GPUs and the data cache",
                          description=__doc__.splitlines()[0]).set_defaults(run=run)


def run_python(code, timeout=600):
    """Run `code` in a fresh interpreter that imports this `d2l`; returns (returncode, stdout,
    a one-line failure: the last stderr line, or the signal that killed it)."""
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(d2l.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=timeout)
    if done.returncode < 0:
        failure = f"crashed ({signal.Signals(-done.returncode).name})"
    else:
        failure = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
    return done.returncode, done.stdout, failure


def probe(fw):
    """Import `fw` and then `d2l.<fw>` in a subprocess: a dict with `version`, `gpus`
    (TensorFlow: `keras`, [module, version] of `tf.keras`), `d2l` (bool), and `failure`
    (None when both imported)."""
    code = PROBE.format(fw=fw, gpus=GPUS[fw], keras=KERAS if fw == "tensorflow" else "")
    returncode, stdout, failure = run_python(code)
    lines = stdout.splitlines()
    info = json.loads(lines[0]) if lines else {}
    info["d2l"] = "d2l imports" in lines
    info["failure"] = None if returncode == 0 else failure
    return info


def version(distribution):
    """Installed version of a distribution, or None."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def release(text):
    """(major, minor) of a version string."""
    return tuple(int(part) for part in text.split(".")[:2])


def numpy_problems(versions):
    """MXNet 1.9.1 uses numpy aliases removed in numpy 1.24."""
    if versions.get("mxnet") and versions.get("numpy") and release(versions["numpy"]) >= (1, 24):
        return [(f"numpy {versions['numpy']} is too new for mxnet {versions['mxnet']} "
                 f"(it needs numpy < 1.24)", "pip install numpy==1.23.5")]
    return []


def keras_problems(environ, versions):
    """`TF_USE_LEGACY_KERAS=1` asks for tf-keras, which must then be installed."""
    if environ.get("TF_USE_LEGACY_KERAS") == "1" and versions.get("tensorflow") \
            and not versions.get("tf-keras"):
        tf = ".".join(versions["tensorflow"].split(".")[:2])
        return [("TF_USE_LEGACY_KERAS=1 asks for Keras 2 but tf-keras is not installed",
                 f'pip install "tf-keras=={tf}.*"')]
    return []


def cache_problems(path):
    """The data cache (or the nearest folder above it that exists) must be writable and have
    room; returns (a description, problems)."""
    existing = os.path.abspath(path)
    while not os.path.isdir(existing):
        existing = os.path.dirname(existing)
    free = shutil.disk_usage(existing).free
    source = "$D2L_DATA_DIR" if "D2L_DATA_DIR" in os.environ else "default ../data"
    text = (f"{os.path.abspath(path)} ({source}; "
            f"{'exists' if existing == os.path.abspath(path) else 'not created yet'}; "
            f"{free / 2**30:.1f} GiB free)")
    fix = "export D2L_DATA_DIR=/a/writable/folder/with/space"
    problems = []
    if not os.access(existing, os.W_OK):
        problems.append((f"the data cache {existing} is not writable", fix))
    if free < MIN_FREE:
        problems.append((f"the data cache has only {free / 2**20:.0f} MiB free", fix))
    return text, problems


def run(args):
    print(f"d2l {d2l.__version__} ({os.path.dirname(os.path.abspath(d2l.__file__))})")
    print(f"Python {sys.version.split()[0]} ({sys.executable})")
    installed = [fw for fw in FRAMEWORKS if importlib.util.find_spec(fw) is not None]
    versions = {name: version(name) for name in ("numpy", "mxnet", "torch", "keras",
                                                 "tf-keras")}
    versions["tensorflow"] = version("tensorflow") or version("tensorflow-cpu")
    print(", ".join(f"{name} {versions[name] or 'not installed'}"
                    for name in ("numpy", "keras", "tf-keras")))
    problems, warnings = [], []
    with concurrent.futures.ThreadPoolExecutor() as pool:
        probes = dict(zip(installed, pool.map(probe, installed)))
    for fw in FRAMEWORKS:
        if fw not in installed:
            print(f"{fw}: not installed (to add it: {INSTALL[fw]})")
            continue
        info = probes[fw]
        parts = [f"{fw} {info.get('version', versions[fw])}"]
        if "version" not in info:
            parts.append(f"import {fw} fails: {info['failure']}")
            problems.append((f"import {fw} fails: {info['failure']}",
                             f"{INSTALL[fw]} --force-reinstall"))
        elif not info["d2l"]:
            parts.append(f"d2l.{fw} fails to import: {info['failure']}")
            problems.append((f"from d2l import {fw} fails: {info['failure']}",
                             'pip install --force-reinstall ".[' + fw + ']"'))
        else:
            parts.append(f"imports; d2l.{fw} imports")
        if "keras" in info:
            module, keras_version = info["keras"]
            parts.append(f"tf.keras is {'tf-keras' if module == 'tf_keras' else 'keras'} "
                         f"{keras_version} (Keras {keras_version.split('.')[0]})")
        if "gpus" in info:
            parts.append(f"GPUs: {', '.join(info['gpus']) or 'none'}")
        print("; ".join(parts))
    if not installed:
        problems.append(("no framework is installed", INSTALL["torch"]))
    problems += numpy_problems(versions) + keras_problems(os.environ, versions)
    if {"mxnet", "tensorflow"} <= set(installed):
        warnings.append(("mxnet and tensorflow are both installed: in one process import "
                         "mxnet before tensorflow (the other order crashes)",
                         "from d2l import mxnet  # before any tensorflow import"))
        returncode, _, failure = run_python("import mxnet\nimport tensorflow\n")
        print(f"import mxnet, then tensorflow, in one process: "
              f"{'ok' if returncode == 0 else failure}")
        if returncode:
            problems.append((f"mxnet and tensorflow cannot share a process: {failure}",
                             'pip install numpy==1.23.5 "tensorflow-cpu==2.17.*"'))
    text, cache = cache_problems(data_hub.data_dir())
    print(f"data cache: {text}")
    problems += cache
    for title, found in (("warnings", warnings), ("problems", problems)):
        if found:
            print(f"\n{title}:")
            for what, fix in found:
                print(f"  - {what}\n    fix: {fix}")
    print("\nno problems found" if not problems else f"\n{len(problems)} problem(s) found")
    return 0
