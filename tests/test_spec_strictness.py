"""The spec's own rules are strict enough to catch the mistakes they exist for: tolerances
apply element by element, a rejection must name the argument as a word, and a saved function
that writes into its arguments fails."""

import numpy as np
import pytest
from hypothesis import strategies as st

from spec.entry import EXACT, Entry, Tol, call_on_copies, check_reference, excess, names, within


def test_tolerances_apply_to_each_element_not_to_the_largest_value():
    """exp on [-5, 5] off by 23% at exp(-5): within rtol 1e-4 of the largest value (exp(5)),
    far outside it for the element itself."""
    x = np.array([-5.0, 0.0, 5.0])
    observed = np.exp(x) * np.array([1.23, 1.0, 1.0])
    assert not within(observed, np.exp(x), Tol(1e-5, 1e-4))
    assert excess(observed, np.exp(x), Tol(1e-5, 1e-4)) > 10


def test_a_small_value_next_to_a_large_one_keeps_its_own_tolerance():
    """A loss of about 2 observed next to an integer 20: a 1% error of the loss is outside
    rtol 1e-3 however large the integer is."""
    expected = [[2.0, 0.5], 20]
    assert within([[2.0 * (1 + 1e-4), 0.5], 20], expected, Tol(1e-3, 0.0))
    assert not within([[2.02, 0.5], 20], expected, Tol(1e-3, 0.0))


def test_exact_tolerance_and_structure():
    assert within({"a": [1, 2], "b": "x"}, {"a": [1, 2], "b": "x"}, EXACT)
    assert not within({"a": [1, 2.5]}, {"a": [1, 2]}, EXACT)
    assert not within([1.0, 2.0], [1.0, 2.0, 3.0], Tol())
    assert not within([np.nan, 1.0], [0.0, 1.0], Tol(1.0, 1.0))
    assert within([np.nan, 1.0], [np.nan, 1.0], EXACT)


@pytest.mark.parametrize("message,name,found", [
    ("Accumulator: n must be a non-negative int, got -1", "n", True),
    ("num_steps must be a positive int", "n", False),
    ("accuracy: predictions do not match labels y of shape (2,)", "y", True),
    ("accuracy: predictions y_hat do not match the labels", "y", False),
    ("download: 'no-such-dataset' is not in DATA_HUB", "no-such-dataset", True),
])
def test_a_rejection_must_name_the_argument_as_a_word(message, name, found):
    assert names(message, name) is found


def _pad_in_place(line, num_steps, padding_token):
    """A wrong truncate_pad: pads the caller's list itself."""
    line[:] = line[:num_steps] + [padding_token] * (num_steps - len(line))
    return line


def _truncate_pad(line, num_steps, padding_token):
    return line[:num_steps] + [padding_token] * (num_steps - len(line))


def _entry(call):
    return Entry("truncate_pad", "9.5", "truncate_pad(line, num_steps, padding_token)", "",
                 reference=_truncate_pad, call=call, tol=EXACT,
                 inputs=lambda: st.tuples(st.lists(st.integers(0, 9), max_size=6),
                                          st.integers(1, 8), st.just(0)))


def test_a_function_that_writes_into_its_argument_fails_the_reference_check():
    with pytest.raises(AssertionError, match="modified its arguments"):
        check_reference(_entry(lambda b, *args: _pad_in_place(*args)), "numpy")
    check_reference(_entry(lambda b, *args: _truncate_pad(*args)), "numpy")


def test_call_on_copies_returns_the_observation():
    entry = _entry(lambda b, *args: _truncate_pad(*args))
    assert call_on_copies(entry, "numpy", ([1, 2], 4, 0)) == [1, 2, 0, 0]


class _NumpyBackend:
    """Just enough of `spec.backends.Backend` to run the synthetic_data probe on NumPy."""

    def __init__(self, noise):
        def synthetic_data(w, b, num_examples):
            rng = np.random.default_rng(0)
            X = rng.normal(0, 1, (num_examples, len(w))).astype(np.float32)
            y = X @ w + b + rng.normal(0, noise, num_examples)
            return X, y.astype(np.float32).reshape(-1, 1)

        self.d2l = type("d2l", (), {"synthetic_data": staticmethod(synthetic_data)})

    tensor = numpy = staticmethod(np.asarray)

    @staticmethod
    def dtype_name(t):
        return t.dtype.name


@pytest.mark.parametrize("noise,passes", [(0.01, True), (0.0, False), (0.0108, False),
                                          (0.03, False)])
def test_synthetic_data_must_show_its_noise(noise, passes):
    from spec import ENTRIES
    from spec.entry import check_probe

    (entry,) = [e for e in ENTRIES if e.name == "synthetic_data"]
    if passes:
        check_probe(entry, _NumpyBackend(noise))
    else:
        with pytest.raises(AssertionError):
            check_probe(entry, _NumpyBackend(noise))


@pytest.mark.parametrize("pred,label,k,expected", [
    ("a b c d", "a b c d", 4, 1.0),
    ("a b", "a b c d", 2, np.exp(-1.0)),
    ("a a a", "a", 1, (1 / 3) ** 0.5),
    # n-grams are keyed by their tokens joined without a separator: 'a bc' and 'ab c' share
    # the bigram 'abc'
    ("a bc d", "ab c d", 2, (1 / 3) ** 0.5 * (1 / 2) ** 0.25),
    ("a", "a b", 2, 0.0),
])
def test_the_bleu_reference_on_hand_checked_cases(pred, label, k, expected):
    from spec.modern_rnns import bleu_reference

    assert bleu_reference(pred, label, k) == pytest.approx(expected, rel=1e-12)


def test_equal_infinities_agree_and_a_missing_one_does_not():
    from spec.entry import max_error

    assert max_error([np.inf, -np.inf, 1.0], [np.inf, -np.inf, 1.0]) == 0.0
    assert max_error([np.inf, 1.0], [1.0, 1.0]) == np.inf
    assert within([np.inf, 2.0], [np.inf, 2.0], EXACT)
    assert not within([-np.inf], [np.inf], Tol(1.0, 1.0))
