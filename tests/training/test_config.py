import pytest

from captchalab.training.config import TrainConfig, config_from_dict, load_config
from captchalab.training.schedule import learning_rate


def test_unknown_keys_are_errors(tmp_path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("model: crnn\nlearning_rate: 0.1\n")
    with pytest.raises(ValueError, match=r"x\.yaml: unknown key 'learning_rate'"):
        load_config(path)


def test_exponent_floats_load_as_numbers(tmp_path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("lr: 1e-3\nweight_decay: 5E-5\ngrad_clip: 2\n")
    config = load_config(path)
    assert config.lr == 0.001 and config.weight_decay == 5e-5
    assert isinstance(config.grad_clip, float) and config.grad_clip == 2.0


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('augment: "no"', "augment: expected true or false, got 'no'"),
        ("lr: fast", "lr: expected a number, got 'fast'"),
        ("max_steps: 1.5", "max_steps: expected an integer, got 1.5"),
        ("batch_size: true", "batch_size: expected an integer, got True"),
        ('seed: "3"', "seed: expected an integer, got '3'"),
        ("model: [crnn]", "model: expected a string, got ['crnn']"),
        ("model_args: 3", "model_args: expected a mapping, got 3"),
        ("schedule: linear", "schedule: expected 'onecycle', 'cosine' or 'constant', got 'linear'"),
        ("batch_size: 0", "batch_size: must be positive, got 0"),
    ],
)
def test_wrong_types_are_errors_naming_file_key_type_and_value(
    tmp_path, line: str, message: str
) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(line + "\n")
    with pytest.raises(ValueError) as error:
        load_config(path)
    assert str(error.value) == f"{path}: {message}"


def test_a_config_file_must_be_a_mapping(tmp_path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("- model\n")
    with pytest.raises(ValueError, match="expected a mapping"):
        load_config(path)


def test_shipped_experiments_load() -> None:
    from pathlib import Path

    files = sorted(Path(__file__).parents[2].glob("configs/experiments/*.yaml"))
    assert files
    for path in files:
        assert isinstance(load_config(path), TrainConfig)


def test_flags_override_and_validation() -> None:
    config = config_from_dict({"model": "crnn", "max_steps": 10}).updated(max_steps=20, lr=None)
    assert config.max_steps == 20 and config.lr == TrainConfig().lr
    with pytest.raises(ValueError, match="scheme or a data folder"):
        TrainConfig(scheme=None, data=None)
    with pytest.raises(ValueError, match="schedule"):
        TrainConfig(schedule="linear")


@pytest.mark.parametrize("kind", ["onecycle", "cosine"])
def test_schedule_warms_up_then_decays(kind: str) -> None:
    rates = [learning_rate(step, 100, 1.0, kind) for step in range(100)]
    peak = rates.index(max(rates))
    assert 5 <= peak <= 15
    assert rates[0] < rates[peak] and rates[-1] < 0.05
    assert all(a >= b for a, b in zip(rates[peak:], rates[peak + 1 :], strict=False))
