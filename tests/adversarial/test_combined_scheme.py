from __future__ import annotations

import random

import pytest

from captchalab.schemes import get_scheme
from captchalab.schemes.combined import combine


def test_target_plus_mix_draws_from_both_parts() -> None:
    scheme = get_scheme("merged4+mix")
    assert set("0123456789aZ") <= set(scheme.charset.symbols)
    assert (scheme.min_length, scheme.max_length) == (3, 8)
    sizes = {scheme.sample_at(0, i)[0].size for i in range(30)}
    assert (120, 40) in sizes and len(sizes) > 2
    image, text = scheme.sample_at(0, 3)
    again, same = scheme.sample_at(0, 3)
    assert text == same and image.tobytes() == again.tobytes()


def test_merged4_is_four_digits() -> None:
    scheme = get_scheme("merged4")
    image, text = scheme.sample_at(1, 0)
    assert image.size == (120, 40) and len(text) == 4 and text.isdigit()


def test_combined_render_picks_a_part_that_can_draw_the_text() -> None:
    scheme = combine("t", ["merged4", "hku"], [1, 1])
    assert scheme.render("1234", random.Random(0)).size == (120, 40)
    assert scheme.render("abcde", random.Random(0)).size == (128, 48)
    with pytest.raises(ValueError, match="no part"):
        scheme.render("#", random.Random(0))
    with pytest.raises(ValueError, match="two or more"):
        combine("one", ["merged4"], [1])


def test_any_schemes_join_with_plus() -> None:
    scheme = get_scheme("hku4+merged4")
    assert scheme.name == "hku4+merged4"
    assert set(get_scheme("hku4").charset.symbols) <= set(scheme.charset.symbols)
    sizes = {scheme.sample_at(0, i)[0].size for i in range(20)}
    assert sizes == {(128, 48), (120, 40)}
    with pytest.raises(KeyError, match="join schemes"):
        get_scheme("hku4+nosuchscheme")
    with pytest.raises(KeyError, match="unknown scheme"):
        get_scheme("hku4+")
