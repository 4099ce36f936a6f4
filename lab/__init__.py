"""Arborist's library: taxonomy validation, synthetic data generation, training, evaluation, publishing.

Importing `lab` must stay cheap: no torch, transformers, peft or llama_cpp at import time. Heavy
imports live inside the backend or function that needs them.
"""

__version__ = "0.1.0"
