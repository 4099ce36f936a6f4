"""Evaluation: seed-question answering (ROUGE-L, exact match) and held-out perplexity per leaf, paired
comparison with a previous model (bootstrap intervals, minimum effect), the release gate, and the report.

Only `model` imports torch, inside its functions; scoring, comparison and rendering are plain Python.
"""
