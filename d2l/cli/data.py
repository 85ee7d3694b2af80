"""`d2l data list|fetch|check`: the `DATA_HUB` datasets and their local cache.

The cache is `$D2L_DATA_DIR` (default `../data`); `$D2L_DATA_URL` names a mirror of the
book's `DATA_URL` (see `d2l.common.data_hub`).
"""

import os
import sys

from d2l.common import data_hub


def register(subparsers):
    parser = subparsers.add_parser("data", help="list, download and check the book's datasets",
                                   description=__doc__.splitlines()[0])
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    actions.add_parser("list", help="every DATA_HUB entry: size, sha1, cached or not, where"
                       ).set_defaults(run=run_list)
    fetch = actions.add_parser("fetch", help="download datasets (hash-checked, with progress)")
    fetch.add_argument("names", nargs="+", metavar="NAME", help="DATA_HUB names (see list)")
    fetch.set_defaults(run=run_fetch)
    actions.add_parser("check", help="re-hash the cached files; remove the corrupt ones "
                       "(exit status 1 if any)").set_defaults(run=run_check)


def cached_path(name):
    """Where `download(name)` keeps the DATA_HUB file `name`."""
    url, _ = data_hub.DATA_HUB[name]
    return os.path.join(data_hub.data_dir(), url.split("/")[-1])


def human_size(n):
    """A byte count for people: `512 B`, `174.8 KiB`, `3.0 MiB`."""
    if n < 1024:
        return f"{n} B"
    for unit in ("KiB", "MiB", "GiB"):
        n /= 1024
        if n < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}"


def _print_table(rows):
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())


def _describe_cache():
    print(f"cache: {os.path.abspath(data_hub.data_dir())} "
          f"({'$D2L_DATA_DIR' if 'D2L_DATA_DIR' in os.environ else 'default ../data'})")
    print(f"source: {data_hub.resolve_url(data_hub.DATA_URL)} "
          f"({'mirror from $D2L_DATA_URL' if os.environ.get('D2L_DATA_URL') else 'DATA_URL'})")


def run_list(args):
    _describe_cache()
    rows = [["name", "size", "sha1", "status", "path"]]
    for name in sorted(data_hub.DATA_HUB):
        path = cached_path(name)
        cached = os.path.isfile(path)
        rows.append([name, human_size(os.path.getsize(path)) if cached else "-",
                     data_hub.DATA_HUB[name][1], "cached" if cached else "not cached",
                     os.path.abspath(path)])
    _print_table(rows)
    return 0


def run_fetch(args):
    unknown = [n for n in args.names if n not in data_hub.DATA_HUB]
    if unknown:
        print(f"d2l data fetch: unknown dataset name(s) {', '.join(map(repr, unknown))}; "
              f"registered: {', '.join(sorted(data_hub.DATA_HUB))}", file=sys.stderr)
        return 2
    for name in dict.fromkeys(args.names):
        url, sha1 = data_hub.DATA_HUB[name]
        try:
            path = data_hub.fetch(url, sha1, always_progress=True)
        except Exception as exc:  # noqa: BLE001  (any failure of one download is reported)
            print(f"d2l data fetch: {name}: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
        print(f"{name}: {os.path.abspath(path)} ({human_size(os.path.getsize(path))}, "
              f"sha1 ok)")
    return 0


def run_check(args):
    _describe_cache()
    corrupt = 0
    for name in sorted(data_hub.DATA_HUB):
        path = cached_path(name)
        if not os.path.isfile(path):
            print(f"{name}: not cached")
        elif data_hub.file_hash(path) == data_hub.DATA_HUB[name][1]:
            print(f"{name}: ok")
        else:
            os.remove(path)
            corrupt += 1
            print(f"{name}: CORRUPT (sha1 differs from DATA_HUB), removed {path}")
    print(f"{corrupt} corrupt file(s) removed" if corrupt else "every cached file is intact")
    return 1 if corrupt else 0
