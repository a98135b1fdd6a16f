"""Model families, registered with the objective their logits are trained under."""

from captchalab.models.registry import create_model, list_models, model_entry, register_model

__all__ = ["create_model", "list_models", "model_entry", "register_model"]
