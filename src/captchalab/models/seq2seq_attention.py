"""CNN encoder + additive-attention GRU decoder (end-to-end captcha recognition, seed 000).

The encoder turns the image into a grid of feature vectors; at each step the decoder attends
over that grid, reads one symbol, and stops with the end token (id 0). Training uses teacher
forcing; inference decodes greedily for ``max_length + 1`` steps (a fixed loop, so the graph
exports to ONNX).
"""

from __future__ import annotations

import torch
from torch import nn

from captchalab.models.layers import conv_bn_relu, feature_shape
from captchalab.models.registry import register_model


class AdditiveAttention(nn.Module):
    """score(h, f) = v . tanh(W_h h + W_f f), softmax over the feature grid."""

    def __init__(self, feature_dim: int, hidden: int, attention_dim: int) -> None:
        super().__init__()
        self.query = nn.Linear(hidden, attention_dim, bias=False)
        self.key = nn.Linear(feature_dim, attention_dim)
        self.score = nn.Linear(attention_dim, 1, bias=False)

    def forward(
        self, hidden: torch.Tensor, features: torch.Tensor, keys: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """hidden ``(B, H)``, features ``(B, N, D)``, keys ``(B, N, A)`` -> context ``(B, D)``,
        weights ``(B, N)``."""
        energy = self.score(torch.tanh(keys + self.query(hidden)[:, None, :])).squeeze(-1)
        weights = torch.softmax(energy, dim=1)  # (B, N)
        context = torch.bmm(weights[:, None, :], features).squeeze(1)
        return context, weights


class AttentionRecognizer(nn.Module):
    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        height: int,
        width: int,
        max_length: int,
        channels: tuple[int, ...] = (32, 32, 64, 64, 128, 128),
        hidden: int = 256,
        embedding: int = 64,
        attention_dim: int = 128,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        previous = in_channels
        for index, out in enumerate(channels):
            layers.append(conv_bn_relu(previous, out))
            if index % 2 == 1:  # pool after every second conv: three halvings for six convs
                layers.append(nn.MaxPool2d(2))
            previous = out
        self.encoder = nn.Sequential(*layers)
        feature_dim, grid_h, grid_w = feature_shape(self.encoder, in_channels, height, width)
        self.grid = (int(grid_h), int(grid_w))
        self.steps = max_length + 1
        self.start_token = num_classes  # one extra embedding row, never predicted
        self.embed = nn.Embedding(num_classes + 1, embedding)
        self.attention = AdditiveAttention(feature_dim, hidden, attention_dim)
        self.init_hidden = nn.Linear(feature_dim, hidden)
        self.gru = nn.GRUCell(embedding + feature_dim, hidden)
        self.classifier = nn.Linear(hidden + feature_dim, num_classes)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W)`` -> ``(B, N, D)`` features, N = grid height * grid width."""
        features = self.encoder(images)
        return features.flatten(2).transpose(1, 2)  # (B, D, h, w) -> (B, h*w, D)

    def forward_with_attention(
        self, images: torch.Tensor, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits ``(B, S, C)`` and attention weights ``(B, S, N)``, S = max_length + 1.

        With ``targets`` ``(B, S)`` the decoder is fed the true previous symbol (teacher
        forcing); without, its own greedy choice.
        """
        features = self.encode(images)
        keys = self.attention.key(features)
        hidden = torch.tanh(self.init_hidden(features.mean(dim=1)))
        token = torch.full(
            (images.shape[0],), self.start_token, dtype=torch.long, device=images.device
        )
        logits, weights = [], []
        for step in range(self.steps):
            context, attention = self.attention(hidden, features, keys)
            hidden = self.gru(torch.cat([self.embed(token), context], dim=1), hidden)
            step_logits = self.classifier(torch.cat([hidden, context], dim=1))
            logits.append(step_logits)
            weights.append(attention)
            token = targets[:, step] if targets is not None else step_logits.argmax(dim=1)
        return torch.stack(logits, dim=1), torch.stack(weights, dim=1)

    def forward(self, images: torch.Tensor, targets: torch.Tensor | None = None) -> torch.Tensor:
        return self.forward_with_attention(images, targets)[0]


@register_model("attention", objective="attention")
def attention(**args: object) -> nn.Module:
    """CNN encoder + additive-attention GRU decoder with teacher forcing and attention maps."""
    return AttentionRecognizer(**args)  # type: ignore[arg-type]
