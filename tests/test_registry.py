"""The spec covers every saved symbol of chapters 2-10, the alias block and every later section
it has begun, and every backend has every symbol the spec lists, under the same module names."""

import csv
import os
import pathlib

import pytest

from spec import ENTRIES, symbol, symbols
from spec.support import SHARED_DATA

INVENTORY = SHARED_DATA.parent / "api" / "inventory.tsv"
CHAPTERS = ("2", "3", "4", "5", "6", "7", "8", "9", "10")
FRAMEWORKS = ("mxnet", "torch", "tensorflow")
PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "d2l"


def _inventory_rows():
    with open(INVENTORY, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def test_spec_covers_every_saved_symbol_of_chapters_2_to_10_and_the_aliases():
    wanted = [r["name"] for r in _inventory_rows()
              if r["kind"] == "alias" or (r["kind"] != "reexport"
                                          and r["section"].split(".")[0] in CHAPTERS)]
    assert len(wanted) == 112
    assert set(wanted) - set(symbols()) == set()


def test_spec_covers_every_saved_symbol_of_each_section_it_has_begun():
    """A book section the spec has entries for is covered whole (chapters 11-17 land one
    section at a time)."""
    rows = [r for r in _inventory_rows() if r["kind"] not in ("reexport", "alias")]
    begun = {e.section for e in ENTRIES}
    missing = [r["name"] for r in rows if r["section"] in begun and r["name"] not in symbols()]
    assert missing == []


def test_spec_sections_and_names_match_the_inventory():
    rows = {r["name"]: r for r in _inventory_rows()}
    for entry in ENTRIES:
        if symbol(entry) in rows:
            section = rows[symbol(entry)]["section"]
            assert entry.section == section, (entry.name, entry.section, section)
        else:  # the one symbol the inventory has no row for would be a spec invention
            pytest.fail(f"spec entry {entry.name!r} checks no saved symbol")


def test_every_entry_is_checkable():
    assert [e.name for e in ENTRIES if not e.checkable] == []


def test_backend_has_every_spec_symbol(backend):
    missing = []
    for name in symbols():
        if name.startswith("DATA_HUB["):
            if name[len("DATA_HUB['"):-2] not in backend.d2l.DATA_HUB:
                missing.append(name)
        elif not hasattr(backend.d2l, name):
            missing.append(name)
    assert missing == []


def test_framework_folders_have_the_same_modules():
    modules = {fw: sorted(p.name for p in (PACKAGE / fw).glob("*.py")) for fw in FRAMEWORKS}
    assert modules["mxnet"] == modules["torch"] == modules["tensorflow"], modules


def test_inventory_is_the_shared_one():
    assert INVENTORY.exists(), f"{INVENTORY} missing: set D2L_SHARED_DATA to shared/data"
    assert os.path.getsize(INVENTORY) > 0
