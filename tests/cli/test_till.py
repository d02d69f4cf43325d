"""``dojo-epos epos till`` as a member of staff meets it: separate processes, output read as text."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from dojo_epos.epos.reference.menu import MENU, MODIFIERS
from tests.processes import DOJO_EPOS, clean_env


def till(db: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    where = ["--db", db] if db else []
    return subprocess.run([DOJO_EPOS, "epos", "till", *args, *where], env=clean_env(),
                          capture_output=True, text=True, timeout=60, check=False)


def pounds(text: str) -> list[int]:
    """Every ``£12.34`` in ``text``, in pence."""
    return [int(a) * 100 + int(b) for a, b in re.findall(r"£(\d+)\.(\d\d)", text)]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database seeded once by ``dojo-epos epos seed`` (a process of its own, as staff run it)."""
    folder = tmp_path_factory.mktemp("till-seed")
    url = f"sqlite:///{folder / 'epos.sqlite3'}"
    done = subprocess.run([DOJO_EPOS, "epos", "seed", "--db", url], env=clean_env(),
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return folder


@pytest.fixture
def db(seeded: Path, tmp_path: Path) -> str:
    """A fresh copy of the seeded database for each test (the seed process exited, so the file
    is whole: no WAL left beside it)."""
    for path in seeded.iterdir():
        shutil.copy(path, tmp_path / path.name)
    return f"sqlite:///{tmp_path / 'epos.sqlite3'}"


def test_menu_lists_every_dish_and_modifier_in_pounds() -> None:
    shown = till(None, "menu")
    assert shown.returncode == 0, shown.stderr
    for entry in MENU.values():
        row = next(r for r in shown.stdout.splitlines() if f" {entry.plu} " in f" {r} ")
        assert entry.name in row and pounds(row) == [entry.price]
    for plu, (name, price) in MODIFIERS.items():
        row = next(r for r in shown.stdout.splitlines() if f" {plu} " in f" {r} ")
        assert name in row and pounds(row) == [price]


def test_an_order_shows_modifiers_and_service_charge_and_adds_up(db: str) -> None:
    opened = till(db, "open", "T3", "MN-BURG*2+MOD-CHEESE+MOD-BACON", "DS-STP+MOD-ICECR", "DR-COKE")
    assert opened.returncode == 0, opened.stderr
    text = opened.stdout
    assert "Extra cheese" in text and "Smoked bacon" in text and "Vanilla ice cream" in text
    line_totals = [pounds(r.split("=")[1])[0] for r in text.splitlines() if " each  = " in r]
    assert len(line_totals) == 3
    summary = next(r for r in text.splitlines() if "total £" in r)
    items = pounds(summary.split("items")[1])[0]
    service = pounds(summary.split("service charge")[1])[0]
    total = pounds(summary.split("total")[1])[0]
    assert items == sum(line_totals) == 2 * (1650 + 150 + 200) + (750 + 150) + 350
    assert service > 0 and total == items + service
    assert "4950" not in text and re.search(r"\btotal \d+\b", text) is None  # pounds, not pence


def test_list_hides_paid_orders_unless_all_and_says_when_none(db: str) -> None:
    opened = till(db, "open", "T6", "DR-WATR")  # T6 has no seeded order
    order_id = opened.stdout.split()[0]
    assert order_id in till(db, "list", "--table", "T6").stdout
    closed = till(db, "close", order_id, "--cash")
    assert closed.returncode == 0, closed.stderr
    listed = till(db, "list", "--table", "T6")
    assert listed.returncode == 0 and order_id not in listed.stdout
    assert "no open orders on table T6" in listed.stdout
    assert order_id in till(db, "list", "--table", "T6", "--all").stdout
    assert "no open orders on table T9" in till(db, "list", "--table", "T9").stdout


#: (typed, how it is named, the closest entry offered): a typo, a name in lower case with a
#: quantity, and an unknown modifier. One database for the three, listed before and after.
UNKNOWN_NAMES = [
    ("MN-BRUG", "unknown PLU 'MN-BRUG'", "MN-BURG (Dry-aged beef burger)"),
    ("burger*2", "unknown PLU 'BURGER'", "MN-BURG"),
    ("MN-BURG+MOD-CHESE", "unknown modifier 'MOD-CHESE'", "MOD-CHEESE (Extra cheese)"),
]


def test_an_unknown_name_is_named_with_the_closest_entries(db: str) -> None:
    before = till(db, "list", "--all").stdout
    for typed, named, closest in UNKNOWN_NAMES:
        refused = till(db, "open", "T3", typed)
        assert refused.returncode == 2, typed
        assert named in refused.stderr and closest in refused.stderr, (typed, refused.stderr)
    assert till(db, "list", "--all").stdout == before  # nothing was opened


def test_a_bad_quantity_says_how_to_write_one(db: str) -> None:
    refused = till(db, "open", "T3", "MN-BURG*two")
    assert refused.returncode == 2 and "PLU*QTY" in refused.stderr
