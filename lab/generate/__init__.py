"""Synthetic data generation: seed examples of a leaf become many filtered training examples.

Entry point: `generate_leaves(leaves, backend, out_dir, params, cache_dir, progress) -> Manifest`.
Backends live in `lab.generate.backends`; heavy libraries load only when a real backend is built.
"""

from lab.generate.backends import Backend, Completion, ScriptedBackend, load_backend
from lab.generate.config import GenerateParams
from lab.generate.runner import LeafResult, Manifest, generate_leaves
from schemas.datacontract import KNOWLEDGE_FILE, MANIFEST_FILE, SKILLS_FILE

__all__ = [
    "KNOWLEDGE_FILE",
    "MANIFEST_FILE",
    "SKILLS_FILE",
    "Backend",
    "Completion",
    "GenerateParams",
    "LeafResult",
    "Manifest",
    "ScriptedBackend",
    "generate_leaves",
    "load_backend",
]
