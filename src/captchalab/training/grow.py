"""Grow a trained model: add blocks that start as the identity, keep every trained weight.

``captchalab train --init CHECKPOINT`` with ``model_args`` that the checkpoint does not set
(e.g. the CRNN's ``context_layers`` and ``heads``) builds the larger model and loads every
trained weight into it. That is allowed only when the addition is whole modules which can
start as the identity (``start_as_identity``): the grown model then computes exactly what
the initial one did, and training continues from there instead of from scratch. Arguments
the checkpoint already sets keep the checkpoint's values, as they always did with ``init``
(its trained weights decide the architecture). An addition that would reshape or drop a
trained weight is an error.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from torch import nn

from captchalab.training.checkpoint import CheckpointMeta, build_model


def grow_model(
    model: nn.Module, meta: CheckpointMeta, model_args: dict[str, Any]
) -> tuple[nn.Module, CheckpointMeta]:
    """``model`` (described by ``meta``) grown by the ``model_args`` it does not set yet, and
    its new description.

    With nothing to add the model and meta come back as they are. Raises ValueError for an
    addition that would drop or reshape a trained weight, or add a module that cannot start
    as the identity.
    """
    added_args = {key: value for key, value in model_args.items() if key not in meta.model_args}
    if not added_args:
        return model, meta
    wanted = {**meta.model_args, **added_args}
    grown_meta = replace(meta, model_args=wanted)
    try:
        grown = build_model(grown_meta)
    except (TypeError, ValueError) as error:
        message = f"cannot grow {meta.model_name!r} to model_args {wanted}: {error}"
        raise ValueError(message) from error
    trained = model.state_dict()
    new_state = grown.state_dict()
    reshaped = [k for k in trained if k in new_state and new_state[k].shape != trained[k].shape]
    dropped = [k for k in trained if k not in new_state]
    if reshaped or dropped:
        raise ValueError(
            f"model_args {added_args} change the trained model rather than add to it "
            f"(reshaped: {', '.join(reshaped) or 'none'}; "
            f"dropped: {', '.join(dropped) or 'none'}); "
            "with init, model_args may only add blocks such as context_layers"
        )
    grown.load_state_dict(trained, strict=False)
    added = set(new_state) - set(trained)
    for name, module in grown.named_modules():
        start = getattr(module, "start_as_identity", None)
        prefix = f"{name}." if name else ""
        own = {prefix + key for key in module.state_dict()}
        if callable(start) and own and own <= added:
            start()
            added -= own
    if added:
        raise ValueError(
            f"model_args {added_args} add weights that cannot start from the trained model: "
            f"{', '.join(sorted(added))}"
        )
    return grown, grown_meta
