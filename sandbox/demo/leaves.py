"""The story's taxonomy content: the base tree, the contributor's leaf, its mistake and its fix.

The base tree comes from the repository's `examples/taxonomy/` when it is there (the leaves users
are shown in the docs); the built-in leaves below are used otherwise, so the demo never depends on
files outside the package. The contributor's leaf is a knowledge leaf with short answers taken
from its document, so a tiny student can learn them in a minute and answer the trained question.
"""

from __future__ import annotations

from pathlib import Path

CONTRIBUTOR = "octo-contributor"
MAINTAINER = "tree-maintainer"
STRANGER = "passing-stranger"

PR_LEAF_PATH = "knowledge/science/botany/tree_care/qna.yaml"
PR_ATTRIBUTION_PATH = "knowledge/science/botany/tree_care/attribution.txt"
PR_DOCUMENT = "tree_care.md"
TRAINED_QUESTION = "What does an arborist do?"
TRAINED_ANSWER = "An arborist plants, prunes and cares for trees."

# (context from the document, [(question, answer) x 3]) x 5: a knowledge v3 leaf's minimum.
_CONTEXTS = [
    ("An arborist plants, prunes and cares for trees. Arborists learn how trees grow, and keep them "
     "healthy and safe.",
     [(TRAINED_QUESTION, TRAINED_ANSWER),
      ("What do arborists learn?", "Arborists learn how trees grow."),
      ("Why call an arborist?", "To keep a tree healthy and safe.")]),
    ("Prune a young tree in late winter, while it is dormant. Remove dead, broken or crossing "
     "branches first.",
     [("When should a young tree be pruned?", "In late winter, while it is dormant."),
      ("Which branches go first?", "Dead, broken or crossing branches."),
      ("Is a tree dormant in winter?", "Yes, a young tree is dormant in late winter.")]),
    ("Mulch keeps the soil moist and cool around the roots. Spread it in a wide ring, but keep it "
     "away from the trunk.",
     [("Why is mulch good for a tree?", "Mulch keeps the soil moist and cool around the roots."),
      ("How is mulch spread?", "In a wide ring around the tree."),
      ("Should mulch touch the trunk?", "No, keep mulch away from the trunk.")]),
    ("Plant a tree so the root flare sits at the soil surface. A tree planted too deep slowly "
     "suffocates.",
     [("How deep should a tree be planted?", "So the root flare sits at the soil surface."),
      ("What happens to a tree planted too deep?", "It slowly suffocates."),
      ("Where should the root flare be?", "At the soil surface.")]),
    ("The crown is the tree's branches and leaves above the trunk. A balanced crown sheds wind "
     "evenly.",
     [("What is a tree's crown?", "The branches and leaves above the trunk."),
      ("Why should a crown be balanced?", "A balanced crown sheds wind evenly."),
      ("What is above the trunk?", "The crown of branches and leaves.")]),
]
_BROKEN_CONTEXT, _BROKEN_PAIR = 2, 0  # where the contributor misspells `answer`


def pr_leaf(broken: bool, docs_repo: str = "https://github.com/arborist-demo/knowledge-docs",
            docs_commit: str = "5f0c6a1e9b0d2f3a4c5b6d7e8f9a0b1c2d3e4f5a") -> bytes:
    """The contributor's knowledge leaf; `broken` misspells one `answer` key, a mistake real PRs make."""
    lines = [
        "version: 3",
        "domain: botany",
        f"created_by: {CONTRIBUTOR}",
        "document_outline: How to plant, prune and care for trees.",
        "seed_examples:",
    ]
    for c, (context, pairs) in enumerate(_CONTEXTS):
        lines += [f"  - context: {context}", "    questions_and_answers:"]
        for q, (question, answer) in enumerate(pairs):
            key = "anwser" if broken and (c, q) == (_BROKEN_CONTEXT, _BROKEN_PAIR) else "answer"
            lines += [f"      - question: {question}", f"        {key}: {answer}"]
    lines += ["document:", f"  repo: {docs_repo}", f"  commit: {docs_commit}", "  patterns:", f"    - {PR_DOCUMENT}"]
    return ("\n".join(lines) + "\n").encode()


def pr_document() -> bytes:
    """The contributor's source document, committed to the documents repository."""
    return ("# Caring for trees\n\n" + "\n\n".join(context for context, _ in _CONTEXTS) + "\n").encode()


PR_ATTRIBUTION = (
    b"Title of work: Caring for trees\n"
    b"License of the work: CC-BY-4.0\n"
    b"Link to work: https://example.org/notes/tree-care\n"
    b"Creator names: octo-contributor\n"
)

BUILTIN_LEAVES: dict[str, str] = {
    "compositional_skills/writing/grounded/summarise_note/qna.yaml": """\
version: 3
created_by: tree-maintainer
task_description: Summarise a short note in one sentence.
seed_examples:
  - context: The library opens at nine, closes at five, and is shut on Sundays.
    question: Summarise the note about the library.
    answer: The library is open nine to five, except on Sundays.
  - context: Bring a coat, the forecast says rain after noon and wind by evening.
    question: What does the weather note say, in short?
    answer: Take a coat because rain and wind are coming.
  - context: The meeting moved from Tuesday to Thursday because the room was booked.
    question: Sum up the note about the meeting.
    answer: The meeting is now on Thursday.
  - context: Water the ferns twice a week and keep them out of direct sun.
    question: Give the gist of the note about ferns.
    answer: Water the ferns twice weekly and keep them shaded.
  - context: The train leaves at seven from platform two; tickets are sold on board.
    question: Summarise the note about the train.
    answer: The seven o'clock train leaves from platform two and sells tickets on board.
""",
    "knowledge/science/botany/tree_rings/qna.yaml": """\
version: 3
created_by: tree-maintainer
domain: botany
document_outline: How tree rings form and what they record.
seed_examples:
""" + "".join(
        f"""  - context: {ctx}
    questions_and_answers:
""" + "".join(f"      - question: {q}\n        answer: {a}\n" for q, a in qas)
        for ctx, qas in [
            ("A tree adds one growth ring each year under its bark.",
             [("How many rings does a tree add each year?", "One ring each year."),
              ("Where does a new ring grow?", "Just under the bark."),
              ("What does counting rings tell you?", "The age of the tree.")]),
            ("Wide rings mean a wet, warm year; narrow rings mean a dry or cold one.",
             [("What does a wide ring mean?", "A wet, warm year."),
              ("What does a narrow ring mean?", "A dry or cold year."),
              ("Why do ring widths differ?", "Because each year's weather differs.")]),
            ("Each ring has light earlywood from spring and dark latewood from summer.",
             [("What is earlywood?", "The light wood grown in spring."),
              ("What is latewood?", "The dark wood grown in summer."),
              ("How many parts does a ring have?", "Two, earlywood and latewood.")]),
            ("Dendrochronology dates wood by matching ring patterns between trees.",
             [("What is dendrochronology?", "Dating wood by its ring patterns."),
              ("How are rings matched?", "By comparing patterns between trees."),
              ("What can be dated this way?", "Old wood, such as beams and tools.")]),
            ("Fire scars and insect damage leave marks inside the rings of their year.",
             [("What marks can rings hold?", "Fire scars and insect damage."),
              ("How is a fire dated?", "By the ring that holds its scar."),
              ("Why study scars in rings?", "To learn the history of a forest.")]),
        ]
    ) + """document:
  repo: https://github.com/arborist-demo/botany-notes
  commit: 5f0c6a1e9b0d2f3a4c5b6d7e8f9a0b1c2d3e4f5a
  patterns:
    - tree_rings.md
""",
}
BUILTIN_ATTRIBUTION = (b"Title of work: Notes on plants\nLink to work: https://example.org/notes/plants\n"
                       b"License of the work: CC-BY-4.0\nCreator names: tree-maintainer\n")

HUB_REPO = "arborist-demo/tree-model"
# With the real model, every leaf costs teacher calls and evaluation answers on 2 CPU cores: the base tree
# keeps one small skill leaf, so the whole story fits in ten minutes. The tiny model takes all the examples.
REAL_BASE_LEAVES = ("compositional_skills/writing/freeform/haiku/",)
GENERAL_QUESTION = "Which planet do we live on?"  # a question no leaf teaches: the release must keep answering it


def arborist_config(samples: int, allow_regression: bool = False) -> bytes:
    """The taxonomy's .github/arborist.yml (schemas/arborist_config.json): who may run commands, the Hub repo.
    The teacher is the runner's (ARBORIST_TEACHER), as in a deployment. A tiny random student learns nothing
    a gate can measure (its per-leaf changes are noise that a small data change flips), so the tiny story
    releases through the gate's own `allow_regression` and says so; the real story keeps the real gate."""
    tiny_gate = ("retrain:  # the tiny random student of --fast: its scores are noise, so it releases anyway\n"
                 "  gate:\n    allow_regression: true\n") if allow_regression else ""
    return f"""\
# Arborist settings for this taxonomy (read from the default branch, never from a PR).
commands:
  allowed_permissions: [write, maintain, admin]
generate:
  samples: {samples}
preview:  # a reviewer's preview: the generated rows above (cached), a few LoRA steps, a few general questions
  max_steps: 8
  max_minutes: 3
  general_questions: 5
release:
  repo_id: {HUB_REPO}
  license: cc-by-4.0
{tiny_gate}""".encode()


def base_tree(repo_root: Path | None, only: tuple[str, ...] | None = None) -> dict[str, bytes]:
    """Files of the initial commit: examples/taxonomy/ if present, else the built-in leaves; `only` keeps
    the leaves (and their attribution files) under these folders."""
    files: dict[str, bytes] = {}
    examples = repo_root / "examples" / "taxonomy" if repo_root else None
    if examples and examples.is_dir():
        for path in sorted(examples.rglob("*")):
            if path.is_file() and path.name in ("qna.yaml", "attribution.txt") or (path.is_file() and path.suffix == ".md"):
                files[path.relative_to(examples).as_posix()] = path.read_bytes()
    if only is not None:
        files = {rel: data for rel, data in files.items() if rel.startswith(only)}
    if not any(p.endswith("qna.yaml") for p in files):
        for rel, text in BUILTIN_LEAVES.items():
            files[rel] = text.encode()
            files[rel.replace("qna.yaml", "attribution.txt")] = BUILTIN_ATTRIBUTION
    return files


def knowledge_documents(files: dict[str, bytes], repo_url: str, commit: str) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """Point every knowledge leaf at the demo's local documents repository.

    Returns (taxonomy files with each leaf's `document.repo`/`commit` rewritten in place, the
    documents to commit there). Each document is written from the leaf's own contexts, under the
    names its patterns ask for, so generation reads real text without any download.
    """
    from lab.taxonomy.leaf import leaf_from_yaml

    out, docs = dict(files), {}
    for rel, data in files.items():
        if not (rel.startswith("knowledge/") and rel.endswith("qna.yaml")):
            continue
        leaf = leaf_from_yaml(rel, data)
        if leaf.document is None:
            continue
        stem = rel.split("/")[-2]
        text = f"# {leaf.description or stem}\n\n" + "\n\n".join(
            dict.fromkeys(seed.context for seed in leaf.seeds if seed.context))
        for pattern in leaf.document.patterns:
            name = pattern.replace("**/", "").replace("*", stem)
            docs[name if name.endswith(".md") else f"{name}.md"] = (text + "\n").encode()
        out[rel] = _rewrite_document(data, repo_url, commit)
    return out, docs


def _rewrite_document(data: bytes, repo_url: str, commit: str) -> bytes:
    """Replace the `repo:` and `commit:` values inside the top-level `document:` block, keeping layout."""
    lines, inside = data.decode("utf-8").splitlines(keepends=True), False
    for i, line in enumerate(lines):
        if line.startswith("document:"):
            inside = True
            continue
        if inside and line[:1] not in (" ", "\t", "\n", ""):
            inside = False
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        if inside and stripped.startswith("repo:"):
            lines[i] = f"{indent}repo: {repo_url}\n"
        elif inside and stripped.startswith("commit:"):
            lines[i] = f"{indent}commit: {commit}\n"
    return "".join(lines).encode("utf-8")
