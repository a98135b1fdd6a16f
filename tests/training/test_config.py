import pytest

from captchalab.training.config import TrainConfig, config_from_dict, load_config
from captchalab.training.schedule import learning_rate


def test_unknown_keys_are_errors(tmp_path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("model: crnn\nlearning_rate: 0.1\n")
    with pytest.raises(ValueError, match=r"unknown keys \['learning_rate'\]"):
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
