import pytest

from captchalab.charset import NAMED_CHARSETS, Charset, UnknownSymbolError


def test_hku_charset_is_the_59_symbols_of_the_report() -> None:
    symbols = NAMED_CHARSETS["hku"]
    assert len(symbols) == 59
    assert not set("0Oo") & set(symbols)


@pytest.mark.parametrize("name", sorted(NAMED_CHARSETS))
def test_round_trip_every_named_charset(name: str) -> None:
    charset = Charset.from_spec(f"@{name}")
    ids = charset.encode(charset.symbols)
    assert ids == list(range(1, len(charset) + 1))
    assert charset.decode(ids) == charset.symbols


def test_blank_and_out_of_range_ids_are_skipped() -> None:
    charset = Charset("abc")
    assert charset.decode([0, 1, 0, 3, 99]) == "ac"
    assert charset.num_classes == 4


def test_unknown_symbol_names_text_symbol_and_place() -> None:
    charset = Charset.from_spec("@digits")
    with pytest.raises(UnknownSymbolError, match=r"'12a4'.*labels\.csv:3.*'a'"):
        charset.encode("12a4", where="labels.csv:3")


def test_case_folding() -> None:
    charset = Charset("abcXYZ", case_sensitive=False)
    assert charset.symbols == "abcxyz"
    assert charset.decode(charset.encode("AbX")) == "abx"


def test_rejects_duplicates_and_unknown_named_sets() -> None:
    with pytest.raises(ValueError, match="repeated"):
        Charset("abca")
    with pytest.raises(ValueError, match="unknown charset"):
        Charset.from_spec("@klingon")
    with pytest.raises(ValueError, match="repeated"):
        Charset("aab", case_sensitive=False)


def test_case_insensitive_sets_fold_to_one_symbol_per_letter() -> None:
    charset = Charset.from_spec("@alnum", case_sensitive=False)
    assert charset.symbols == NAMED_CHARSETS["digits"] + NAMED_CHARSETS["lower"]
    assert charset.num_classes == 37
    assert charset.encode("Ab9") == charset.encode("aB9") == [11, 12, 10]
    assert Charset("aA", case_sensitive=False).symbols == "a"
    assert Charset.from_dict(charset.to_dict()) == charset


def test_dict_round_trip() -> None:
    charset = Charset("xyz", case_sensitive=False)
    assert Charset.from_dict(charset.to_dict()) == charset
