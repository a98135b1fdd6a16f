"""The challenge file (YAML): which scheme to serve, how, for how long, from how big a pool.

```yaml
scheme: hku               # a preset or a scheme .yaml (relative paths: to this file)
ttl_s: 120                # a challenge can be answered for this long
pool_size: 64             # images rendered ahead, refilled in the background
source: render            # render (default) | folder (a labelled folder, e.g. `harden`'s)
folder: hardened/         # source: folder only
hardening:                # optional; source: render only; needs torch
  substitute: runs/substitute/best
  device: cpu
  batch_size: 16
  settings: {method: mixture, linf: 0.3, l0: 100, mask: background}
```
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from captchalab.errors import error_text


class ChallengeConfigError(ValueError):
    """The challenge file cannot be used; the message says why and where."""


class HardeningConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    substitute: str = Field(min_length=1, description="substitute checkpoint folder")
    ensemble: list[str] = Field(
        default_factory=list,
        description="further substitute checkpoints attacked at the same time (an ensemble)",
    )
    device: str = "cpu"
    batch_size: int = Field(default=16, ge=1, le=1024)
    settings: dict[str, Any] = Field(
        default_factory=dict, description="HardeningSettings fields (captchalab.adversarial)"
    )


class ChallengeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    scheme: str = Field(min_length=1)
    ttl_s: float = Field(default=120.0, gt=0, le=86_400)
    pool_size: int = Field(default=64, ge=1, le=100_000)
    source: Literal["render", "folder"] = "render"
    folder: str | None = None
    hardening: HardeningConfig | None = None
    wait_s: float = Field(
        default=2.0, ge=0, le=60, description="how long a request waits on an empty pool"
    )

    @model_validator(mode="after")
    def _check_source(self) -> ChallengeConfig:
        if self.source == "folder" and not self.folder:
            raise ValueError("source: folder needs `folder:` (a folder with labels.csv)")
        if self.source == "render" and self.folder:
            raise ValueError("`folder:` is only used with source: folder")
        if self.source == "folder" and self.hardening is not None:
            raise ValueError(
                "`hardening:` applies to rendered images; a folder is served as it is "
                "(harden it first with `captchalab harden`)"
            )
        return self

    @property
    def ttl_ms(self) -> int:
        return round(self.ttl_s * 1000)


def parse_challenge_config(
    data: Any, base_dir: Path, where: str = "challenge file"
) -> ChallengeConfig:
    """Validate ``data`` (the parsed YAML); relative paths are resolved against ``base_dir``."""
    if not isinstance(data, dict):
        raise ChallengeConfigError(
            f"{where}: expected a mapping of settings, got {type(data).__name__}"
        )
    try:
        config = ChallengeConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'file'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ChallengeConfigError(f"{where}: {problems}") from None
    updates: dict[str, Any] = {}
    if config.scheme.endswith((".yaml", ".yml")):
        updates["scheme"] = str(_resolve(base_dir, config.scheme))
    if config.folder is not None:
        updates["folder"] = str(_resolve(base_dir, config.folder))
    if config.hardening is not None:
        substitute = str(_resolve(base_dir, config.hardening.substitute))
        ensemble = [str(_resolve(base_dir, member)) for member in config.hardening.ensemble]
        updates["hardening"] = config.hardening.model_copy(
            update={"substitute": substitute, "ensemble": ensemble}
        )
    config = config.model_copy(update=updates)
    _check_scheme(config.scheme, where)
    return config


def load_challenge_config(path: str | Path) -> ChallengeConfig:
    """Read and validate a challenge file; raises ``ChallengeConfigError`` with the reason."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ChallengeConfigError(f"challenge file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ChallengeConfigError(f"challenge file {path} cannot be read: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ChallengeConfigError(f"challenge file {path} is not valid YAML: {exc}") from None
    return parse_challenge_config(data, path.parent, where=f"challenge file {path}")


def _resolve(base_dir: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base_dir / path


def _check_scheme(scheme: str, where: str) -> None:
    from captchalab.schemes import get_scheme

    try:
        get_scheme(scheme)
    except (KeyError, ValueError, FileNotFoundError) as exc:
        message = error_text(exc)
        raise ChallengeConfigError(f"{where}: scheme: {message}") from None
