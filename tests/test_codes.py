"""The area-code rules every layer shares (codes.py)."""

from __future__ import annotations

import pytest

from codes import ancestor_codes, is_area_code, prefix_inside


@pytest.mark.parametrize("code", ["330200", "330212", "330212001", "330212001002", "330212001002003"])
def test_codes_of_every_level_are_area_codes(code):
    assert is_area_code(code)


@pytest.mark.parametrize("code", ["", "33021", "3302120", "330212001002003004", "33021a", " 330212", "-33021"])
def test_other_strings_are_not(code):
    assert not is_area_code(code)


def test_ancestor_codes_run_from_the_district_down_to_the_area():
    assert ancestor_codes("330212001002003") == ["330212", "330212001", "330212001002", "330212001002003"]
    assert ancestor_codes("330200") == ["330200"]


def test_the_city_prefix_is_its_first_four_digits_below_it_the_whole_code():
    assert prefix_inside("330200", "city") == "3302"
    assert "330282".startswith(prefix_inside("330200", "city"))
    assert prefix_inside("330212001", "street") == "330212001"
