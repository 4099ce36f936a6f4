"""Each test gets its own Hugging Face home and cache: nothing is read from or written to the user's."""

from tests.hf_home import isolated_hf_home  # noqa: F401  (autouse fixture)
