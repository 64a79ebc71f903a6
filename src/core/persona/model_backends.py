"""Model backends other than Bedrock, and the choice between them."""

from __future__ import annotations

from core.persona.persona_ports import Completion, ModelBackend


class NoModelBackend:
    """Makes no model call: the chat answer carries the built prompt and content null.
    The local default, and a safe default anywhere no model is configured."""

    name = "none"
    model: str | None = None

    def complete(self, system: str, user: str) -> Completion | None:
        return None


def make_backend(kind: str, model_id: str | None = None, max_tokens: int = 1024) -> ModelBackend:
    if kind == "none":
        return NoModelBackend()
    if kind == "bedrock":
        if not model_id:
            raise ValueError("the bedrock backend needs a model id (BEDROCK_MODEL_ID)")
        from core.persona.adapters.bedrock import BedrockBackend

        return BedrockBackend(model_id, max_tokens=max_tokens)
    raise ValueError(f"unknown model backend {kind!r}; use 'none' or 'bedrock'")
