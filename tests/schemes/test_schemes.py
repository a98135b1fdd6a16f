"""Schemes: presets, YAML styled schemes, reproducibility and dataset generation."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from PIL import Image

from captchalab.schemes import Scheme, get_scheme, list_schemes
from captchalab.schemes.generate import generate_dataset
from captchalab.schemes.styled import Style, StyledScheme, load_scheme_file
from captchalab.schemes.words import load_words

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_YAMLS = sorted((REPO / "configs" / "schemes").glob("*.yaml"))
SCHEMES = [
    "hku",
    "hku4",
    "alnum4",
    "digits5",
    "alnum5",
    "words",
    "mix",
    *(str(path) for path in EXAMPLE_YAMLS),
]


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_examples_and_presets_are_present() -> None:
    assert {"hku", "digits5", "alnum5", "words", "mix"} <= set(list_schemes())
    assert len(EXAMPLE_YAMLS) >= 2


@pytest.mark.parametrize("name", SCHEMES, ids=lambda name: Path(name).stem)
def test_samples_fit_the_declared_scheme(name: str) -> None:
    scheme = get_scheme(name)
    for index in range(4):
        image, text = scheme.sample_at(7, index)
        assert image.mode == "RGB"
        if scheme.variable_size:  # e.g. mix: any size up to the declared one
            assert image.width <= scheme.width and image.height <= scheme.height
        else:
            assert image.size == scheme.size
        assert scheme.min_length <= len(text) <= scheme.max_length
        assert scheme.charset.validate(text) == text


@pytest.mark.parametrize("name", SCHEMES, ids=lambda name: Path(name).stem)
def test_same_seed_and_index_give_identical_images(name: str) -> None:
    first, second = get_scheme(name), get_scheme(name)
    image, text = first.sample_at(3, 5)
    again, text_again = second.sample_at(3, 5)
    assert text == text_again and png_bytes(image) == png_bytes(again)
    other, _ = first.sample_at(3, 6)
    assert png_bytes(other) != png_bytes(image)


@pytest.mark.parametrize(("name", "symbols"), [("hku4", 59), ("alnum4", 62)])
def test_fixed_length_seed_presets(name: str, symbols: int) -> None:
    scheme = get_scheme(name)
    assert (scheme.min_length, scheme.max_length) == (4, 4)
    assert len(scheme.charset.symbols) == symbols and scheme.charset.case_sensitive
    assert scheme.size == (128, 48)
    texts = [scheme.sample_at(0, index)[1] for index in range(200)]
    assert all(len(text) == 4 for text in texts)
    used = set("".join(texts))
    assert len(used) > symbols // 2  # draws from the whole set, not a fixed few
    assert any(c.islower() for c in used) and any(c.isupper() for c in used)


def test_words_preset_draws_from_the_word_list() -> None:
    scheme = get_scheme("words")
    words = set(load_words())
    assert len(words) >= 1000 and all(word.isascii() and word.islower() for word in words)
    assert (scheme.width, scheme.height) == (100, 50)
    texts = [scheme.sample_at(0, index)[1] for index in range(20)]
    assert set(texts) <= words and len(set(texts)) > 10


def write_yaml(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "scheme.yaml"
    path.write_text(
        'name: t\ncharset: "@digits"\nlength: [3, 4]\nsize: [96, 40]\n' + body, encoding="utf-8"
    )
    return path


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ("colour: red\n", "colour"),
        ("style:\n  wrap: 0.1\n", "style.wrap"),
        ("style:\n  colours: {backgrond: [0, 0, 0]}\n", "style.colours.backgrond"),
    ],
)
def test_unknown_yaml_keys_are_errors_naming_key_and_file(
    tmp_path: Path, body: str, key: str
) -> None:
    path = write_yaml(tmp_path, body)
    with pytest.raises(ValueError, match="unknown key") as error:
        load_scheme_file(path)
    assert key in str(error.value) and str(path) in str(error.value)


@pytest.mark.parametrize(
    "body",
    [
        "style:\n  rotation: lots\n",
        "style:\n  font_size: [40, 30]\n",
        "style:\n  fonts: [no.ttf]\n",
        "style:\n  colour_per: line\n",
    ],
)
def test_bad_yaml_values_are_errors(tmp_path: Path, body: str) -> None:
    with pytest.raises(ValueError, match=r"scheme\.yaml"):
        load_scheme_file(write_yaml(tmp_path, body))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("style:\n  rotation: lots\n", "style.rotation: expected a number, got 'lots'"),
        ('style:\n  gradient: "no"\n', "style.gradient: expected true or false, got 'no'"),
        ("style:\n  font_size: [30, 40.5]\n", "style.font_size.1: expected an integer, got 40.5"),
        ('style:\n  noise_dots: "10"\n', "style.noise_dots: expected a list, got '10'"),
        ("style:\n  colours: {text: [0, 0, x]}\n", "style.colours.text.2: expected a list"),
        ("case_sensitive: 1\n", "case_sensitive: expected true or false, got 1"),
    ],
)
def test_yaml_types_are_strict_and_errors_name_file_key_type_value(
    tmp_path: Path, body: str, message: str
) -> None:
    path = write_yaml(tmp_path, body)
    with pytest.raises(ValueError) as error:
        load_scheme_file(path)
    assert message in str(error.value) and str(path) in str(error.value)


def test_yaml_style_accepts_single_numbers_and_exponent_floats(tmp_path: Path) -> None:
    body = "style:\n  font_size: 30\n  warp: 5e-2\n  colours: {text: [[0, 9], 5, 0]}\n"
    scheme = load_scheme_file(write_yaml(tmp_path, body))
    assert scheme.style.font_size == (30, 30) and scheme.style.warp == 0.05
    assert scheme.style.colours.text == ((0, 9), (5, 5), (0, 0))


def test_yaml_fonts_resolve_against_the_file_folder(tmp_path: Path) -> None:
    font = Path(Style().fonts[0])
    (tmp_path / "fonts").mkdir()
    (tmp_path / "fonts" / "face.ttf").write_bytes(font.read_bytes())
    body = "style:\n  fonts: [fonts/face.ttf]\n  colours: {text: [0, [0, 50], 9]}\n"
    scheme = load_scheme_file(write_yaml(tmp_path, body))
    assert isinstance(scheme, StyledScheme)
    assert scheme.style.fonts == (str(tmp_path / "fonts" / "face.ttf"),)
    assert scheme.style.colours.text == ((0, 0), (0, 50), (9, 9))
    assert scheme.sample_at(0, 0)[0].size == (96, 40)


def read_folder(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def yaml_scheme() -> Scheme:
    return get_scheme(str(EXAMPLE_YAMLS[0]))


def test_generate_dataset_is_complete_and_reproducible(tmp_path: Path) -> None:
    count, seen = 12, []
    first = generate_dataset("hku", count, tmp_path / "a", seed=1, workers=2, progress=seen.append)
    second = generate_dataset(get_scheme("hku"), count, tmp_path / "b", seed=1, workers=1)
    assert seen == list(range(1, count + 1))
    files = read_folder(first)
    assert sorted(files) == [f"{i:06d}.png" for i in range(count)] + ["labels.csv"]
    assert files == read_folder(second)
    with (first / "labels.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["filename"] for row in rows] == [f"{i:06d}.png" for i in range(count)]
    assert rows[3]["label"] == get_scheme("hku").sample_at(1, 3)[1]


def test_generate_dataset_with_yaml_scheme_object(tmp_path: Path, yaml_scheme: Scheme) -> None:
    out = generate_dataset(yaml_scheme, 4, tmp_path / "y", seed=0, workers=2)
    assert len(list(out.glob("*.png"))) == 4


def test_generate_dataset_refuses_existing_dataset(tmp_path: Path) -> None:
    generate_dataset("digits5", 3, tmp_path, seed=0, workers=1)
    with pytest.raises(FileExistsError):
        generate_dataset("digits5", 2, tmp_path, seed=0, workers=1)
    generate_dataset("digits5", 2, tmp_path, seed=0, workers=1, overwrite=True)
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "000000.png",
        "000001.png",
        "labels.csv",
    ]


def test_schemes_name_the_generators_that_draw_them() -> None:
    from dataclasses import replace

    from captchalab.schemes import get_scheme
    from captchalab.schemes.combined import combine

    assert get_scheme("hku").generators() == {"python captcha"}
    assert get_scheme("digits5").generators() == {"python captcha"}
    assert get_scheme("mix").generators() == {"captchalab", "python captcha"}
    assert get_scheme("broad").generators() == {"captchalab"}
    assert get_scheme("merged4").generators() == {"captchalab"}
    wide = Path(__file__).parents[2] / "configs" / "schemes" / "heldout_wide.yaml"
    assert get_scheme(str(wide)).generators() == {"captchalab"}
    own_mix = replace(get_scheme("mix"), family_weights=(1.0, 0.0, 1.0))
    assert own_mix.generators() == {"captchalab"}  # type: ignore[attr-defined]
    assert combine("both", ["merged4", "hku"], [1, 1]).generators() == {
        "captchalab",
        "python captcha",
    }
    assert combine("own", ["merged4", "hku"], [1, 0]).generators() == {"captchalab"}


def test_a_scheme_at_other_lengths() -> None:
    one = get_scheme("hku@1")
    assert (one.name, one.min_length, one.max_length) == ("hku@1", 1, 1)
    base = get_scheme("hku")
    assert one.size == base.size and one.charset == base.charset
    texts = {one.sample_at(3, i)[1] for i in range(20)}
    assert {len(t) for t in texts} == {1} and len(texts) > 5
    assert {len(get_scheme("alnum4@2-3").sample_at(0, i)[1]) for i in range(30)} == {2, 3}
    assert one.fingerprint() != base.fingerprint()  # caches of the two never mix


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("hku@x", "N or MIN-MAX"),
        ("hku@", "N or MIN-MAX"),
        ("hku@3-2", "bad length range 3-2"),
        ("hku@0", "bad length range 0-0"),
    ],
)
def test_bad_lengths_are_clear_errors(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        get_scheme(spec)
    with pytest.raises(KeyError, match="add @N"):
        get_scheme("nope@1")
