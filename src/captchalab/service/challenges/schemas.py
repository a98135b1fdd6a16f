"""Request and response bodies of the challenge API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from captchalab.store.tables import MAX_ANSWER_LENGTH


class Challenge(BaseModel):
    id: str = Field(description="opaque id to answer with")
    image: str = Field(description="the captcha, PNG bytes in base64")
    expires_at: str = Field(description="ISO 8601 UTC time after which answers get 410")


class AnswerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    answer: str = Field(max_length=MAX_ANSWER_LENGTH, description="the text read")


class AnswerResult(BaseModel):
    correct: bool
