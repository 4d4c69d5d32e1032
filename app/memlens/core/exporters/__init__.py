"""Exporters: memories out of MemLens as JSONL, CSV, GraphML or Mem0's JSON shape."""
