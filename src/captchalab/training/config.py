"""Training configuration: a frozen dataclass, loaded strictly from YAML and flags."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from captchalab.strict_config import STRICT, read_yaml, validate

# Fixed seeds keep validation and test sets disjoint from every training stream.
VALIDATION_SEED = 1_000_001
TEST_SEED = 2_000_002


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (stored in every checkpoint)."""

    __pydantic_config__ = STRICT  # YAML is checked strictly (see captchalab.strict_config)

    model: str = "crnn"
    scheme: str | None = "hku"
    data: str | None = None  # labelled folder; replaces the scheme's synthetic stream
    init: str | None = None  # checkpoint (or ONNX-free run dir) to fine-tune from
    model_args: dict[str, Any] = field(default_factory=dict)
    charset: str | None = None  # default: the scheme's charset
    case_sensitive: bool = True
    max_length: int | None = None  # default: the scheme's (or data's) longest label
    height: int = 48
    width: int = 128
    channels: int = 1
    resize: str = "stretch"
    median_filter: int = 0
    dynamic_width: bool = False  # with resize "pad": width is a cap, each image its own width
    min_width: int = 64
    crop_text: bool = False  # cut each image to the box around its ink first
    reshape_input: bool = False  # with init: this config's input size, not the checkpoint's
    batch_size: int = 64
    max_steps: int = 10_000
    stop_at: int | None = None  # end the run at this step; the schedule still spans max_steps
    lr: float = 2e-3
    weight_decay: float = 1e-4
    schedule: Literal["onecycle", "cosine", "constant"] = "onecycle"
    warmup_fraction: float = 0.1
    grad_clip: float = 5.0
    seed: int = 0
    cache_size: int = 0  # > 0: pre-render this many training images and cycle over them
    augment: bool = True
    val_size: int = 1000
    eval_every: int = 500
    checkpoint_every: int = 500
    target_accuracy: float | None = None  # stop once validation exact accuracy reaches it
    workers: int = 0  # DataLoader workers for on-the-fly rendering
    threads: int | None = None  # torch intra-op threads (default: all cores)
    channels_last: bool = True
    precision: Literal["float32", "bf16"] = "float32"  # bf16: autocast (native bf16 CPUs, GPUs)

    def __post_init__(self) -> None:
        if self.scheme is None and self.data is None:
            raise ValueError("give a scheme or a data folder to train on")
        if self.schedule not in ("onecycle", "cosine", "constant"):
            raise ValueError(
                f"schedule must be onecycle, cosine or constant, not {self.schedule!r}"
            )
        if self.precision not in ("float32", "bf16"):
            raise ValueError(f"precision must be float32 or bf16, not {self.precision!r}")
        for name in ("batch_size", "max_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: must be positive, got {getattr(self, name)!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def updated(self, **changes: Any) -> TrainConfig:
        """A copy with the non-``None`` changes applied (flags override the file)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def config_from_dict(data: dict[str, Any], source: str = "config") -> TrainConfig:
    """A checked :class:`TrainConfig`: unknown keys, wrong types (``lr: "fast"``,
    ``augment: "no"``) and bad values are ``ValueError``s naming ``source`` and the key."""
    return validate(TrainConfig, data, source)


def load_config(path: Path) -> TrainConfig:
    """Read an experiment YAML file strictly (``lr: 1e-3`` is a float)."""
    data = read_yaml(path)
    return config_from_dict({} if data is None else data, source=str(path))
