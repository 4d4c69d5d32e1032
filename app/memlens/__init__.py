"""MemLens: look into an AI agent's long-term memory and put it right."""

__version__ = "0.1.0"
