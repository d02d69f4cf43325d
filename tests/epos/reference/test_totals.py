"""The totals rule (pure): properties that must hold for any order."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from dojo_epos.contract import models as m
from dojo_epos.epos.reference.totals import (
    compute_totals,
    included_tax,
    item_amount,
    percentage_of,
)


def gbp(v: int) -> m.Money:
    return m.Money(value=v, currency_code="GBP")


amounts = st.integers(min_value=0, max_value=100_000)
modifiers = st.builds(lambda q, a: m.Modifier(name="m", plu="M", quantity=q,
                                              amount_per_modifier=gbp(a)),
                      st.integers(0, 5), amounts)
sub_items = st.builds(lambda q, a, mods: m.OrderSubItem(name="s", plu="S", quantity=q,
                                                        amount_per_item=gbp(a), modifiers=mods),
                      st.integers(0, 5), amounts, st.lists(modifiers, max_size=3))
items = st.builds(lambda q, a, mods, subs: m.OrderItem(name="i", plu="I", quantity=q,
                                                       amount_per_item=gbp(a), modifiers=mods,
                                                       sub_items=subs),
                  st.integers(1, 10), amounts, st.lists(modifiers, max_size=3),
                  st.lists(sub_items, max_size=3))
discounts = st.lists(st.builds(lambda a: m.Discount(name="d", amount_total=gbp(a)), amounts),
                     max_size=3)
taxes = st.lists(st.builds(lambda a: m.TaxLine(name="t", amount_total=gbp(a)), amounts),
                 max_size=3)


@given(items)
def test_an_item_costs_quantity_times_one_unit(item):
    """Quantity scales everything on the line: modifiers and sub-items count per single item."""
    one = item.model_copy(update={"quantity": 1})
    assert item_amount(item) == item.quantity * item_amount(one)


@given(st.lists(items, max_size=5), discounts, taxes, amounts, st.booleans())
def test_total_is_subtotal_minus_discounts_plus_taxes_and_service(its, ds, ts, service, incl):
    """total = subtotal - discounts + (taxes unless included) + service, parts reported apart."""
    t = compute_totals(its, ds, ts, service, taxes_included=incl)
    assert t.subtotal == sum(item_amount(i) for i in its)
    assert t.discounts == sum(d.amount_total.value for d in ds)
    assert t.taxes == sum(x.amount_total.value for x in ts)
    assert t.total == t.subtotal - t.discounts + (0 if incl else t.taxes) + service


@given(st.lists(items, min_size=1, max_size=5), st.permutations(range(5)))
def test_total_does_not_depend_on_line_order(its, perm):
    """Reordering the lines gives the same total."""
    order = [its[i] for i in perm if i < len(its)]
    assert compute_totals(order).total == compute_totals(its).total


@given(st.integers(0, 10**9), st.integers(0, 10_000))
def test_percentages_round_half_up_to_the_minor_unit(amount, pct):
    """percentage_of and included_tax are within half a minor unit of the exact value."""
    exact = Fraction(amount * pct, 10_000)
    assert abs(percentage_of(amount, pct) - exact) <= Fraction(1, 2)
    exact_tax = Fraction(amount * pct, 10_000 + pct)
    assert abs(included_tax(amount, pct) - exact_tax) <= Fraction(1, 2)
    assert 0 <= included_tax(amount, pct) <= amount
