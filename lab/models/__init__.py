"""Model helpers shared by generation, training and publishing (loading, tiny local models, GGUF)."""
