"""Model helpers shared by generation, training and publishing (loading, resolving, GGUF, packaging)."""
