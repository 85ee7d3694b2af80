"""`d2l verify`: a learner's solutions checked against the spec, in each framework.

The learner code (tests/learners/) is written the way the book writes the saved code, plus
realistic mistakes; correct solutions pass, each mistake fails with a shrunk counterexample.
"""

import json
import pathlib
import runpy
import subprocess
import sys

import numpy as np
import pytest

from d2l import verification

LEARNERS = pathlib.Path(__file__).parent / "learners"
FEW = 25  # hypothesis examples per check: enough for these mistakes, keeps the suite fast


def solutions(backend):
    """The learner's objects for `backend`: its framework's file plus the shared Vocab."""
    names = runpy.run_path(str(LEARNERS / f"solutions_{backend.name}.py"))
    names.update(runpy.run_path(str(LEARNERS / "vocab.py")))
    return names


CORRECT = ["corr2d", "sequence_mask", "masked_softmax", "MultiHeadAttention", "Vocab"]


@pytest.mark.parametrize("symbol", CORRECT)
def test_book_style_solution_passes(symbol, backend):
    result = verification.check(solutions(backend)[symbol], symbol, backend.name,
                                max_examples=FEW)
    assert result, result.report()
    assert result.failures == [] and len(result.checks) >= 2


WRONG = [  # (learner's object, symbol, what the verdict says, the shrunk first argument)
    ("corr2d_off_by_one", "corr2d", "shape (0, 0) where (1, 1) is expected",
     "X = np.array([[0.]], dtype=np.float32)"),
    ("masked_softmax_wrong_axis", "masked_softmax", "times what the tolerance allows",
     "X = np.array([[[0., 0.]]], dtype=np.float32)"),
    ("masked_softmax_mask_after", "masked_softmax", "times what the tolerance allows",
     "X = np.array([[[0.]]], dtype=np.float32)"),
    ("MultiHeadAttentionUnscaled", "MultiHeadAttention", "times what the tolerance allows",
     "case = {'kind': 'mha'"),
    ("sequence_mask_in_place", "sequence_mask", "modified its argument X in place",
     "X = np.array([[0.]], dtype=np.float32)"),
    ("sequence_mask_off_by_one", "sequence_mask", "times what the tolerance allows",
     "X = np.array([[0.]], dtype=np.float32)"),
    ("VocabKeepsRareTokens", "Vocab", "differs from the expected value", "tokens = ['a']"),
    ("VocabExtendsReserved", "Vocab", "modified its argument reserved in place",
     "tokens = []"),
]


@pytest.mark.parametrize("wrong,symbol,verdict,first", WRONG, ids=[w[0] for w in WRONG])
def test_mistake_fails_with_smallest_counterexample(wrong, symbol, verdict, first, backend):
    learner = solutions(backend)
    if wrong not in learner:  # in place: not in TensorFlow (immutable tensors); off by one:
        pytest.skip(f"{wrong} is not among the {backend.name} learner's mistakes")  # TF only
    result = verification.check(learner[wrong], symbol, backend.name, max_examples=FEW)
    assert not result
    (failure,) = [f for f in result.failures if f.check == "reference"]
    assert verdict in failure.message
    assert failure.example.startswith(first)
    assert f'd2l.verify({wrong}, "{symbol}", example=(' in failure.snippet


def test_snippet_reproduces_the_failure(backend):
    """The snippet's code, run where the learner's function is defined, checks that one
    example and fails the same way."""
    learner = solutions(backend)
    result = verification.check(learner["corr2d_off_by_one"], "corr2d", backend.name,
                                max_examples=FEW)
    namespace = {"d2l": backend.d2l, **learner}
    exec(result.failures[0].snippet, namespace)  # noqa: S102
    rerun = verification.check(learner["corr2d_off_by_one"], "corr2d", backend.name,
                               example=(namespace["X"], namespace["K"]))
    assert list(rerun.checks) == ["corr2d (example)"]
    assert rerun.failures[0].observed == result.failures[0].observed


def test_extremes_and_bad_arguments_are_advice_unless_strict(backend):
    """The book's masked_softmax is 3-D only and does not validate its arguments: it passes,
    with advice; --strict counts the advice."""
    fn = solutions(backend)["masked_softmax"]
    lenient = verification.check(fn, "masked_softmax", backend.name, max_examples=FEW)
    strict = verification.check(fn, "masked_softmax", backend.name, max_examples=FEW,
                                strict=True)
    assert lenient and not strict
    checks = {f.check for f in lenient.advice}
    assert "beyond the book's range" in checks and "rejects 1-D X" in checks
    assert {f.check for f in strict.failures} == checks
    assert "X = np.array([[0., 0.]], dtype=np.float32)" in lenient.advice[0].example


def test_gradient_through_corr2d_is_advice(backend):
    """The book's corr2d loop is differentiable in PyTorch only (MXNet refuses the in-place
    writes under autograd, TensorFlow's Variable.assign cuts the tape)."""
    result = verification.check(solutions(backend)["corr2d"], "corr2d", backend.name,
                                max_examples=5)
    assert result.checks["corr2d (autograd) (probe)"] is False
    advised = [f.entry for f in result.advice if f.check == "probe"]
    assert advised == ([] if backend.name == "torch" else ["corr2d (autograd)"])


def test_backend_module_verify_prints_the_verdict(backend, capsys):
    result = backend.d2l.verify(solutions(backend)["corr2d"], "corr2d", max_examples=5)
    assert result and repr(result).endswith(f"[{backend.name}]: pass>")
    assert capsys.readouterr().out.startswith(f"PASS: corr2d as corr2d [{backend.name}]")


def test_unknown_name_is_a_value_error(backend):
    with pytest.raises(ValueError, match="did you mean 'corr2d'"):
        verification.check(lambda X, K: X, "corr2dd", backend.name)


def test_source_rebuilds_values():
    values = (np.array([[0.1, -2.5e-8], [np.nan, -np.inf]], np.float32),
              np.zeros((0, 3), np.int64), np.int32(4), [None, "a", (1.5,)], {"k": 2})
    rebuilt = eval(verification.source(values), {"np": np})  # noqa: S307
    assert rebuilt[0].dtype == np.float32
    assert np.array_equal(rebuilt[0], values[0], equal_nan=True)
    assert rebuilt[1].shape == (0, 3) and rebuilt[1].dtype == np.int64
    assert rebuilt[2:] == values[2:] and type(rebuilt[2]) is np.int32


def test_verify_is_loaded_on_first_use_only(backend):
    code = (f"import sys\nfrom d2l import {backend.name} as d2l\n"
            "print(sorted(m for m in ('hypothesis', 'spec', 'd2l.verification', 'd2l._spec')"
            " if m in sys.modules))\nd2l.verify\nprint('d2l.verification' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["[]", "True"]


# --- the command line ---------------------------------------------------------------------

def _learner_file(backend, tmp_path, extra=""):
    """The learner's solutions file for `backend`, with `extra` lines appended."""
    path = tmp_path / "solutions.py"
    path.write_text((LEARNERS / f"solutions_{backend.name}.py").read_text() + extra)
    return path


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "d2l", "verify", *args],
                          capture_output=True, text=True)


def test_cli_on_a_python_file(backend, tmp_path):
    """Every saved symbol the file defines is verified; the learner's prints go to stderr."""
    path = _learner_file(backend, tmp_path, "print('learner says hello')\n")
    done = _cli(str(path), "--max-examples", "5")
    assert done.returncode == 0, done.stdout + done.stderr
    assert [line.split(" [")[0] for line in done.stdout.splitlines()
            if line.startswith("PASS")] == ["PASS: corr2d as corr2d",
                                             "PASS: sequence_mask as sequence_mask",
                                             "PASS: masked_softmax as masked_softmax",
                                             "PASS: MultiHeadAttention as MultiHeadAttention"]
    assert "learner says hello" in done.stderr and "hello" not in done.stdout
    bad = _learner_file(backend, tmp_path, "masked_softmax = masked_softmax_wrong_axis\n")
    done = _cli(f"{bad}::masked_softmax", "--framework", backend.name, "--json", "--strict",
                "--max-examples", "10")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["passed"] is False and report["framework"] == backend.name
    assert report["strict"] is True
    (result,) = report["results"]
    assert (result["name"], result["symbol"]) == ("masked_softmax_wrong_axis", "masked_softmax")
    assert result["failures"][0]["example"].startswith("X = np.array([[[0., 0.]]]")
    assert {"check": "masked_softmax (reference)", "counted": True,
            "passed": False} in result["checks"]


def test_cli_on_a_notebook(backend, tmp_path):
    """Code cells run in order, magics and shell lines skipped; only NAME is verified."""
    cells = [(LEARNERS / f"solutions_{backend.name}.py").read_text(),
             "%matplotlib inline\n!ls\nsequence_mask", "%%bash\necho not python",
             "%%time\nmasked_softmax = masked_softmax_wrong_axis"]
    notebook = {"cells": [{"cell_type": "markdown", "source": ["# Exercise"]}] + [
        {"cell_type": "code", "source": c.splitlines(keepends=True)} for c in cells],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "exercise.ipynb"
    path.write_text(json.dumps(notebook))
    done = _cli(f"{path}::corr2d", "--json", "--max-examples", "10")
    assert done.returncode == 0, done.stdout + done.stderr
    assert [r["symbol"] for r in json.loads(done.stdout)["results"]] == ["corr2d"]
    done = _cli(f"{path}::masked_softmax", "--max-examples", "10")  # set by the %%time cell
    assert done.returncode == 1 and "FAIL: masked_softmax_wrong_axis as" in done.stdout


def test_cli_usage_errors(tmp_path):
    assert _cli(str(tmp_path / "missing.py")).returncode == 2
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    done = _cli(str(empty))
    assert done.returncode == 2 and "--framework" in done.stderr
    done = _cli(str(empty), "--framework", "torch")
    assert done.returncode == 1 and "defines no function" in done.stdout
