"""Downloads and extraction: hash checks, atomic writes, cache and mirror settings, and
archives that try to write outside their folder. Everything is served over loopback."""

import http.server
import io
import os
import tarfile
import threading
import zipfile
from contextlib import redirect_stdout

import pytest
import requests

from d2l.common import data_hub
from d2l.common.data_hub import DATA_HUB, DATA_URL, download, download_extract
from spec import support


def _register(name, www, fname):
    return support.patched(DATA_HUB, **{name: (DATA_URL + fname, support.sha1(www / fname))})


def _quiet(fn, *args):
    out = io.StringIO()
    with redirect_stdout(out):
        result = fn(*args)
    return result, out.getvalue()


def test_real_kaggle_files_download_with_upstream_sha1():
    with support.data_sandbox() as (cache, www, url):
        for name in ("kaggle_house_train", "kaggle_house_test"):
            fname = DATA_HUB[name][0].split("/")[-1]
            support.copy_shared(fname, www)
            path, printed = _quiet(download, name)
            assert printed == f"Downloading {path} from {url}{fname}...\n"
            assert support.sha1(path) == DATA_HUB[name][1]
        assert sorted(os.listdir(cache)) == ["kaggle_house_pred_test.csv",
                                            "kaggle_house_pred_train.csv"]


def test_hash_mismatch_raises_and_leaves_no_file():
    with support.data_sandbox() as (cache, www, _):
        (www / "f.txt").write_text("the real content")
        with support.patched(DATA_HUB, f=(DATA_URL + "f.txt", "0" * 40)):
            with pytest.raises(ValueError, match="(?i)hash"):
                _quiet(download, "f")
        assert os.listdir(cache) == []


def test_http_error_raises_and_leaves_no_file():
    with support.data_sandbox() as (cache, _, _):
        with support.patched(DATA_HUB, missing=(DATA_URL + "missing.txt", "0" * 40)):
            with pytest.raises(requests.HTTPError):
                _quiet(download, "missing")
        assert os.listdir(cache) == []


class _Truncating(http.server.BaseHTTPRequestHandler):
    """Promises 1000 bytes, sends 10, then closes the connection."""

    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.wfile.write(b"0123456789")
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args):
        pass


def test_interrupted_download_leaves_no_file(tmp_path):
    server = http.server.HTTPServer(("127.0.0.1", 0), _Truncating)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/big.bin"
    try:
        with support.patched(DATA_HUB, big=(url, "0" * 40)):
            with pytest.raises(Exception):  # noqa: B017  (requests' error type varies)
                _quiet(download, "big", str(tmp_path))
    finally:
        server.shutdown()
        server.server_close()
    assert os.listdir(tmp_path) == []


def test_cached_file_is_reused_and_a_corrupt_one_replaced():
    with support.data_sandbox() as (cache, www, _):
        (www / "f.txt").write_text("content")
        with _register("f", www, "f.txt"):
            path, printed = _quiet(download, "f")
            assert printed
            assert _quiet(download, "f") == (path, "")
            open(path, "w").write("corrupted")
            again, printed = _quiet(download, "f")
            assert printed and open(again).read() == "content"


@pytest.mark.parametrize("setting", [None, ("PROGRESS_MIN_BYTES", 1),
                                     ("PROGRESS_AFTER_S", 0.0)])
def test_progress_bar_only_for_large_or_slow_downloads(setting, monkeypatch, capsys):
    """A small fast download prints its one line and no bar; one the thresholds call large
    (by size) or slow (by time) shows a finished tqdm bar on stderr."""
    if setting:
        monkeypatch.setattr(data_hub, *setting)
    with support.data_sandbox() as (_, www, _):
        (www / "f.txt").write_text("content")
        with _register("f", www, "f.txt"):
            path = download("f")
    captured = capsys.readouterr()
    assert captured.out.startswith(f"Downloading {path} from ") and captured.out.count("\n") == 1
    if setting:
        assert "f.txt: 100%" in captured.err and "7.00/7.00 [" in captured.err
    else:
        assert captured.err == ""


def test_cache_dir_argument_and_environment(tmp_path, monkeypatch):
    with support.data_sandbox() as (cache, www, _):
        (www / "f.txt").write_text("content")
        with _register("f", www, "f.txt"):
            path, _ = _quiet(download, "f", str(tmp_path))
            assert os.path.dirname(path) == str(tmp_path)
            assert data_hub.data_dir() == str(cache)
    monkeypatch.delenv("D2L_DATA_DIR", raising=False)
    assert data_hub.data_dir() == os.path.join("..", "data")


def test_mirror_replaces_only_the_data_url_prefix():
    with support.environ(D2L_DATA_URL="http://mirror.example/d2l"):
        assert data_hub.resolve_url(DATA_URL + "a/b.zip") == "http://mirror.example/d2l/a/b.zip"
        assert data_hub.resolve_url("http://other/x.zip") == "http://other/x.zip"


def test_unknown_name_is_a_clear_error():
    with pytest.raises(ValueError, match="'nope' is not registered in DATA_HUB"):
        download("nope")


def _zip(path, members):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)


def _tar(path, members, links=()):
    with tarfile.open(path, "w:gz") as t:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        for name, target in links:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            t.addfile(info)


@pytest.mark.parametrize("member", ["../escape.txt", "/tmp/d2l-absolute-escape.txt",
                                    "ok/../../escape.txt"])
@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_archive_members_outside_the_folder_are_refused(kind, member):
    with support.data_sandbox() as (cache, www, _):
        fname = f"evil.{kind}"
        members = {"fine.txt": b"ok", member: b"pwned"}
        (_zip if kind == "zip" else _tar)(www / fname, members)
        with _register("evil", www, fname):
            with pytest.raises(ValueError, match="outside"):
                _quiet(download_extract, "evil")
        assert sorted(os.listdir(cache)) == [fname]
        assert not os.path.exists(cache.parent / "escape.txt")
        assert not os.path.exists("/tmp/d2l-absolute-escape.txt")


def test_tar_symlink_pointing_outside_is_refused():
    with support.data_sandbox() as (cache, www, _):
        _tar(www / "links.tar.gz", {"a.txt": b"a"}, links=[("link", "../../etc/passwd")])
        with _register("links", www, "links.tar.gz"):
            with pytest.raises(ValueError, match="outside"):
                _quiet(download_extract, "links")
        assert sorted(os.listdir(cache)) == ["links.tar.gz"]


def test_tar_gz_extracts_next_to_the_archive():
    with support.data_sandbox() as (cache, www, _):
        _tar(www / "pack.tar.gz", {"pack/x.txt": b"x"})
        with _register("pack", www, "pack.tar.gz"):
            folder, _ = _quiet(download_extract, "pack", "pack")
        assert open(os.path.join(folder, "x.txt")).read() == "x"
        assert folder == os.path.join(str(cache), "pack")


def test_other_archive_types_are_refused():
    with support.data_sandbox() as (_, www, _):
        (www / "data.rar").write_bytes(b"rar")
        with _register("rar", www, "data.rar"):
            with pytest.raises(ValueError, match="only zip/tar"):
                _quiet(download_extract, "rar")
