"""The `d2l` command line, run as `python -m d2l` in subprocesses: `data list|fetch|check`
against datasets served over loopback, and `doctor`."""

import importlib.metadata
import importlib.util
import os
import pathlib
import shutil
import subprocess
import sys
import tomllib

from d2l.cli import doctor
from d2l.common.data_hub import DATA_HUB
from spec import backends, support

ROOT = pathlib.Path(__file__).resolve().parents[1]


def d2l_cli(*args):
    """Run `python -m d2l *args` with this checkout's `d2l` and the current environment."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "d2l", *args], capture_output=True,
                          text=True, env=env, timeout=600)


def _line(output, name):
    return next(line for line in output.splitlines() if line.split()[:1] == [name])


def test_entry_point_and_python_m_run_the_same_main():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, function = scripts["d2l"].split(":")
    assert module == "d2l.cli" and function == "main"
    assert "from d2l.cli import main" in (ROOT / "d2l" / "__main__.py").read_text()
    done = d2l_cli("--version")
    assert (done.returncode, done.stdout) == (0, "d2l 0.16.6\n")


def test_data_list_shows_every_entry_with_size_sha1_status_and_path():
    with support.data_sandbox() as (cache, _, url):
        shutil.copy(support.SHARED_DATA / "timemachine.txt", cache)
        done = d2l_cli("data", "list")
    assert done.returncode == 0, done.stderr
    assert f"cache: {cache} ($D2L_DATA_DIR)" in done.stdout
    assert f"source: {url} (mirror from $D2L_DATA_URL)" in done.stdout
    for name, (hub_url, sha1) in DATA_HUB.items():
        path = cache / hub_url.split("/")[-1]
        fields = _line(done.stdout, name).split()
        if name == "time_machine":
            assert fields == [name, "174.8", "KiB", sha1, "cached", str(path)]
        else:
            assert fields == [name, "-", sha1, "not", "cached", str(path)]


def test_data_fetch_downloads_from_the_mirror_with_a_progress_bar():
    with support.data_sandbox() as (cache, www, _):
        for fname in ("timemachine.txt", "fra-eng.zip"):
            support.copy_shared(fname, www)
        done = d2l_cli("data", "fetch", "time_machine", "fra-eng")
        assert done.returncode == 0, done.stderr
        assert sorted(os.listdir(cache)) == ["fra-eng.zip", "timemachine.txt"]
        assert support.sha1(cache / "fra-eng.zip") == DATA_HUB["fra-eng"][1]
    assert f"fra-eng: {cache / 'fra-eng.zip'} (3.3 MiB, sha1 ok)" in done.stdout
    assert done.stderr.count("100%") == 2  # one finished bar per file, however small


def test_data_fetch_of_an_unknown_name_fails_with_status_2_and_downloads_nothing():
    with support.data_sandbox() as (cache, www, _):
        support.copy_shared("timemachine.txt", www)
        done = d2l_cli("data", "fetch", "time_machine", "no_such_set")
        assert os.listdir(cache) == []
    assert done.returncode == 2
    assert "unknown dataset name(s) 'no_such_set'" in done.stderr
    assert "time_machine" in done.stderr  # the registered names are listed


def test_data_fetch_of_a_file_with_the_wrong_hash_fails_and_leaves_nothing():
    with support.data_sandbox() as (cache, www, _):
        (www / "timemachine.txt").write_text("not the time machine")
        done = d2l_cli("data", "fetch", "time_machine")
        assert os.listdir(cache) == []
    assert done.returncode == 1
    assert "d2l data fetch: time_machine: ValueError" in done.stderr
    assert "hash" in done.stderr.lower()


def test_data_check_reports_and_removes_corrupt_files_only():
    with support.data_sandbox() as (cache, _, _):
        shutil.copy(support.SHARED_DATA / "timemachine.txt", cache)
        (cache / "fra-eng.zip").write_bytes(b"truncated")
        done = d2l_cli("data", "check")
        assert sorted(os.listdir(cache)) == ["timemachine.txt"]
        again = d2l_cli("data", "check")
    assert done.returncode == 1
    assert _line(done.stdout, "fra-eng:").startswith("fra-eng: CORRUPT")
    assert _line(done.stdout, "time_machine:") == "time_machine: ok"
    assert _line(done.stdout, "kaggle_house_test:") == "kaggle_house_test: not cached"
    assert "1 corrupt file(s) removed" in done.stdout
    assert again.returncode == 0
    assert "every cached file is intact" in again.stdout


def test_doctor_reports_every_installed_framework_and_exits_0(tmp_path):
    with support.environ(D2L_DATA_DIR=tmp_path):
        done = d2l_cli("doctor")
    assert done.returncode == 0, done.stderr
    installed = {fw for fw in backends.ORDER if importlib.util.find_spec(fw)}
    assert installed >= {b.name for b in backends.active()}
    for fw in backends.ORDER:
        line = _line(done.stdout, fw) if fw in installed else _line(done.stdout, f"{fw}:")
        if fw in installed:
            version = backends.Backend(fw).fw.__version__
            assert line.startswith(f"{fw} {version}; imports; d2l.{fw} imports;"), line
            assert "GPUs: " in line
        else:
            assert line.startswith(f"{fw}: not installed (to add it: pip install")
    assert f"numpy {importlib.metadata.version('numpy')}, keras " in done.stdout
    if "tensorflow" in installed:
        import keras

        legacy = os.environ.get("TF_USE_LEGACY_KERAS") == "1"
        assert ("tf.keras is tf-keras 2." if legacy else f"tf.keras is keras {keras.__version__}"
                ) in done.stdout
    both = {"mxnet", "tensorflow"} <= installed
    assert ("import mxnet before tensorflow" in done.stdout) == both
    assert ("import mxnet, then tensorflow, in one process: ok" in done.stdout) == both
    assert f"data cache: {tmp_path} ($D2L_DATA_DIR; exists; " in done.stdout


def test_doctor_survives_a_crashing_import():
    returncode, _, failure = doctor.run_python("import ctypes\nctypes.string_at(0)\n")
    assert returncode < 0 and failure == "crashed (SIGSEGV)"
    returncode, _, failure = doctor.run_python("raise ImportError('no such module: x')\n")
    assert returncode == 1 and failure == "ImportError: no such module: x"


def test_doctor_names_the_fix_for_numpy_and_keras_mismatches():
    assert doctor.numpy_problems({"mxnet": "1.9.1", "numpy": "1.26.4"}) == [
        ("numpy 1.26.4 is too new for mxnet 1.9.1 (it needs numpy < 1.24)",
         "pip install numpy==1.23.5")]
    assert doctor.numpy_problems({"mxnet": "1.9.1", "numpy": "1.23.5"}) == []
    assert doctor.numpy_problems({"mxnet": None, "numpy": "2.1.0"}) == []
    assert doctor.keras_problems({"TF_USE_LEGACY_KERAS": "1"},
                                 {"tensorflow": "2.21.0", "tf-keras": None}) == [
        ("TF_USE_LEGACY_KERAS=1 asks for Keras 2 but tf-keras is not installed",
         'pip install "tf-keras==2.21.*"')]
    assert doctor.keras_problems({}, {"tensorflow": "2.21.0", "tf-keras": None}) == []


def test_doctor_describes_a_cache_folder_not_created_yet(tmp_path, monkeypatch):
    monkeypatch.setattr(doctor, "MIN_FREE", 2**80)
    text, problems = doctor.cache_problems(str(tmp_path / "a" / "b"))
    assert text.startswith(f"{tmp_path / 'a' / 'b'} (") and "not created yet" in text
    assert [fix for _, fix in problems] == ["export D2L_DATA_DIR=/a/writable/folder/with/space"]
    assert "MiB free" in problems[0][0]
