"""Training: mixing recipe, chat-template tokenisation, packing, phased full/LoRA tuning, checkpoints.

Nothing here imports torch at module level except the modules that run the model (`trainer`,
`checkpoint`, `modeling`); `config`, `data`, `tokenize` and `packing` are plain Python.
"""
