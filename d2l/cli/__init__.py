"""The `d2l` command line (also `python -m d2l`): a dispatcher over subcommand modules.

Each module named in `COMMANDS` is `d2l.cli.<name>` and has `register(subparsers)`, which adds
its parser and sets `run` (a function of the parsed arguments returning the exit status).
Modules import anything heavy inside `run`, so `d2l --help` stays fast.
"""

import argparse
import importlib

import d2l

COMMANDS = ("data", "doctor", "verify")


def main(argv=None):
    """Parse `argv` (default: `sys.argv[1:]`), run the chosen subcommand, return its status."""
    parser = argparse.ArgumentParser(prog="d2l", description=d2l.__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"d2l {d2l.__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(subparsers)
    args = parser.parse_args(argv)
    return args.run(args)
