"""All installed frameworks in one process: every spec entry on identical inputs, compared
pairwise (run by `tox -e cross`)."""

import itertools

import pytest
from hypothesis import given

from spec import ENTRIES
from spec.entry import call_on_copies, limited, max_error, outcome, within

NUMERIC = [e for e in ENTRIES if e.reference is not None]
PROBED = [e for e in ENTRIES if e.probe is not None]
EDGED = [e for e in ENTRIES if e.edges is not None]


def _assert_agree(entry, observations):
    for (a, obs_a), (b, obs_b) in itertools.combinations(observations.items(), 2):
        assert within(obs_a, obs_b, entry.tol), (
            f"{entry.name}: {a} and {b} disagree by {max_error(obs_a, obs_b):.3g}\n"
            f"{a}: {obs_a!r}\n{b}: {obs_b!r}")


@pytest.mark.parametrize("entry", NUMERIC, ids=[e.name for e in NUMERIC])
def test_frameworks_agree_on_drawn_inputs(entry, all_backends):
    @limited(entry)
    @given(entry.inputs())
    def check(args):
        _assert_agree(entry, {b.name: call_on_copies(entry, b, args) for b in all_backends})

    check()


@pytest.mark.parametrize("entry", PROBED, ids=[e.name for e in PROBED])
def test_frameworks_agree_on_probes(entry, all_backends):
    if entry.name in ("normal", "rand", "synthetic_data"):
        pytest.skip("random draws: each framework is checked against the spec's statistics")
    _assert_agree(entry, {b.name: entry.probe(b) for b in all_backends})


@pytest.mark.parametrize("entry", EDGED, ids=[e.name for e in EDGED])
def test_frameworks_agree_on_edge_cases(entry, all_backends):
    """On every drawn edge case, either all frameworks raise the same error type or all
    return observations that agree."""
    @given(entry.edges())
    def check(args):
        outcomes = {b.name: outcome(entry, b, args) for b in all_backends}
        kinds = {name: (kind if kind == "value" else type(result).__name__)
                 for name, (kind, result) in outcomes.items()}
        assert len(set(kinds.values())) == 1, f"{entry.name} on {args!r}: {kinds}"
        if set(kinds.values()) == {"value"}:
            _assert_agree(entry, {name: result for name, (_, result) in outcomes.items()})

    check()
