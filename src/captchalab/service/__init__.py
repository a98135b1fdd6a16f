"""HTTP service: FastAPI app, micro-batching, web page. Needs no torch.

Usage: ``create_app(ServiceSettings(models={"default": "model.onnx"}))``, served by uvicorn.
"""

from captchalab.service.app import create_app
from captchalab.service.settings import ServiceSettings

__all__ = ["ServiceSettings", "create_app"]
