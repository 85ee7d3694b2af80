"""`d2l verify FILE.py[::NAME]` or `d2l verify NOTEBOOK.ipynb[::NAME]`: check a learner's
solutions against the spec (see `d2l.verification`).

The file runs as a module would (a notebook: its code cells in order, as Jupyter runs them,
IPython magics and shell lines skipped); then every function or class it defines whose name
is a saved symbol — or only NAME — is verified. Exit status 0 when all pass, 1 otherwise.
"""

import contextlib
import json
import os
import sys
import types

FRAMEWORKS = ("mxnet", "torch", "tensorflow")
CELL_MAGICS_WITH_PYTHON = ("%%time", "%%timeit", "%%capture")


def register(subparsers):
    parser = subparsers.add_parser("verify", help="check your solutions against the spec",
                                   description=__doc__.split("\n\n")[0])
    parser.add_argument("target", metavar="FILE[::NAME]",
                        help="a .py file or .ipynb notebook, optionally ::NAME of one "
                        "function or class in it")
    parser.add_argument("--framework", choices=FRAMEWORKS,
                        help="the backend to verify in (default: the one the file imports)")
    parser.add_argument("--strict", action="store_true",
                        help="count the spec's extras (extreme inputs, edge cases, errors "
                        "for bad arguments) in the verdict")
    parser.add_argument("--json", action="store_true", help="machine-readable results")
    parser.add_argument("--max-examples", type=int, default=100, metavar="N",
                        help="hypothesis examples per check (default 100)")
    parser.set_defaults(run=run)


def notebook_source(path):
    """The code cells of a notebook as one Python source, cell after cell; line magics and
    shell lines are left out, and so are cells of cell magics other than time/capture."""
    with open(path, encoding="utf-8") as f:
        cells = json.load(f)["cells"]
    chunks = []
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        text = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        lines = text.splitlines()
        if lines and lines[0].startswith("%%"):
            if not lines[0].startswith(CELL_MAGICS_WITH_PYTHON):
                continue
            lines = lines[1:]
        chunks.append("\n".join(line for line in lines
                                if not line.lstrip().startswith(("%", "!"))))
    return "\n\n".join(chunks)


def load(path):
    """Run the learner's file; returns its namespace (a notebook runs as `__main__`, as in
    Jupyter; a .py file as a module)."""
    if path.endswith(".ipynb"):
        code, name = notebook_source(path), "__main__"
    else:
        with open(path, encoding="utf-8") as f:
            code, name = f.read(), "learner"
    namespace = {"__name__": name, "__file__": os.path.abspath(path)}
    exec(compile(code, path, "exec"), namespace)  # noqa: S102  (running the learner's code)
    return namespace


def imported_framework(namespace):
    """The frameworks whose d2l backend (or the framework itself) the file imported."""
    found = set()
    for value in namespace.values():
        if isinstance(value, types.ModuleType):
            parts = value.__name__.split(".")
            if parts[0] in FRAMEWORKS:
                found.add(parts[0])
            elif parts[0] == "d2l" and len(parts) > 1 and parts[1] in FRAMEWORKS:
                found.add(parts[1])
    return found


def defined_symbols(namespace, symbols):
    """(name, object) of the functions and classes the file defines whose name is a saved
    symbol, in the file's order."""
    return [(n, v) for n, v in namespace.items() if n in symbols
            and isinstance(v, (types.FunctionType, type))
            and v.__module__ == namespace["__name__"]]


def run(args):
    path, _, only = args.target.partition("::")
    if not os.path.isfile(path):
        print(f"d2l verify: no such file: {path}", file=sys.stderr)
        return 2
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from d2l import verification

    with contextlib.redirect_stdout(sys.stderr):  # the learner's prints stay off stdout
        namespace = load(path)
    symbols = set(verification.spec_package().symbols())
    if only:
        if only not in namespace:
            print(f"d2l verify: {path} defines no {only!r}", file=sys.stderr)
            return 2
        if only not in symbols:
            print(f"d2l verify: {only!r} is not a saved symbol of the spec", file=sys.stderr)
            return 2
        chosen = [(only, namespace[only])]
    else:
        chosen = defined_symbols(namespace, symbols)
    framework = args.framework
    if framework is None:
        found = imported_framework(namespace)
        if len(found) != 1:
            print(f"d2l verify: say --framework (the file imports {sorted(found) or 'none'})",
                  file=sys.stderr)
            return 2
        (framework,) = found
    with contextlib.redirect_stdout(sys.stderr):
        results = [verification.check(obj, name, framework, max_examples=args.max_examples,
                                      strict=args.strict) for name, obj in chosen]
    passed = bool(results) and all(results)
    if args.json:
        print(json.dumps({"file": path, "framework": framework, "strict": args.strict,
                          "passed": passed, "results": [r.to_dict() for r in results]},
                         indent=2))
    elif not results:
        print(f"FAIL: {path} defines no function or class named like a saved symbol")
    else:
        print("\n\n".join(r.report() for r in results))
    return 0 if passed else 1
