"""Each backend of this environment against the spec: references, probes, bad inputs."""

import pytest

from spec import ENTRIES, symbol
from spec.entry import check_edges, check_probe, check_reference, names

NUMERIC = [e for e in ENTRIES if e.reference is not None]
PROBED = [e for e in ENTRIES if e.probe is not None and e.expect is not None]
REJECTS = [(e, r) for e in ENTRIES for r in e.rejects]
EDGED = [e for e in ENTRIES if e.edges is not None]


@pytest.mark.parametrize("entry", NUMERIC, ids=[e.name for e in NUMERIC])
def test_matches_numpy_reference(entry, backend):
    check_reference(entry, backend)


@pytest.mark.parametrize("entry", EDGED, ids=[e.name for e in EDGED])
def test_edge_cases_match_spec(entry, backend):
    check_edges(entry, backend)


@pytest.mark.parametrize("entry", PROBED, ids=[e.name for e in PROBED])
def test_probe_matches_spec(entry, backend):
    check_probe(entry, backend)


@pytest.mark.parametrize("entry,reject", REJECTS,
                         ids=[f"{e.name}-{r.why}" for e, r in REJECTS])
def test_rejects_bad_input(entry, reject, backend):
    """The bad call raises the spec's error type, with a message that names the saved
    function and the argument (whole words)."""
    fn = getattr(backend.d2l, symbol(entry))
    with pytest.raises(reject.error) as info:
        fn(*reject.args(backend), **reject.kwargs(backend))
    message = str(info.value)
    assert names(message, reject.match), (
        f"{entry.name}: the error should name the argument {reject.match!r}, got: {message}")
    assert names(message, symbol(entry)), (
        f"{entry.name}: the error should name {symbol(entry)!r}, got: {message}")
