"""Widen a trained model to a site's labels: new symbols, and (for CTC) longer texts.

Fine-tuning the shipped model on a site's own captchas (``captchalab train --init default
--data DIR``) should not fail because the site uses a symbol the model was never taught
(``+``, ``=``, ``@``, a letter of another alphabet) or texts longer than it read before.

- **New symbols** are appended to the charset, so every trained symbol keeps its class id.
  The output rows of the old classes keep their trained weights; the new rows start as a
  freshly built model initialises them. Rows after the class rows (the attention decoder's
  start token) move along with the end of the table. Before fine-tuning, the widened model
  gives the old classes exactly the logits the trained one gave.
- **Longer texts** need no new weights in a CTC model: the label length only bounds the
  padding of targets, and each frame still reads one symbol. Fixed-length models
  (``multihead``, one output head per position) and the attention decoder keep their
  length, and a longer label stays an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import torch
from torch import nn

from captchalab.charset import Charset
from captchalab.training.checkpoint import CheckpointMeta, build_model


def unknown_symbols(charset: Charset, texts: Iterable[str]) -> str:
    """The symbols of ``texts`` (after the charset's case policy) that ``charset`` lacks,
    in first-seen order."""
    known = set(charset.symbols)
    found: dict[str, None] = {}
    for text in texts:
        for symbol in charset.normalize(text):
            if symbol not in known:
                found[symbol] = None
    return "".join(found)


def widen_model(
    model: nn.Module, meta: CheckpointMeta, symbols: str, longest: int
) -> tuple[nn.Module, CheckpointMeta]:
    """``model`` (described by ``meta``) widened to train on texts of ``symbols`` up to
    ``longest`` long.

    Comes back unchanged when they fit. Raises ValueError when they need a longer text
    than a fixed-length model reads.
    """
    added = unknown_symbols(meta.charset, [symbols])
    max_length = meta.max_length
    if longest > meta.max_length:
        if meta.objective != "ctc":
            raise ValueError(
                f"the labels hold up to {longest} symbols, but this {meta.model_name!r} "
                f"model reads at most {meta.max_length} (a fixed length); train one from "
                "scratch, or use a CTC model (crnn, cnnctc), whose length can grow"
            )
        max_length = longest
    if not added and max_length == meta.max_length:
        return model, meta
    charset = Charset(meta.charset.symbols + added, meta.charset.case_sensitive)
    wide_meta = replace(meta, charset=charset, max_length=max_length)
    if not added:
        return model, wide_meta
    wide = build_model(wide_meta)
    _copy_weights(model.state_dict(), wide, meta.charset.num_classes, charset.num_classes)
    return wide, wide_meta


def _copy_weights(
    trained: dict[str, torch.Tensor], wide: nn.Module, old_classes: int, new_classes: int
) -> None:
    state = wide.state_dict()
    for key, old in trained.items():
        new = state.get(key)
        if new is None:
            raise ValueError(f"widening lost the trained weight {key}")
        if new.shape == old.shape:
            state[key] = old
            continue
        extra = old.shape[0] - old_classes  # rows after the class rows (e.g. a start token)
        same_rest = new.shape[1:] == old.shape[1:]
        if not same_rest or extra < 0 or new.shape[0] - new_classes != extra:
            raise ValueError(
                f"cannot widen {key}: {tuple(old.shape)} -> {tuple(new.shape)} is not a "
                "table of class rows"
            )
        widened = new.clone()
        widened[:old_classes] = old[:old_classes]
        if extra:
            widened[new_classes:] = old[old_classes:]
        state[key] = widened
    wide.load_state_dict(state)
