"""The GitHub client seam: a narrow Protocol, plain dataclasses, one PyGithub adapter (the fake is sandbox.fakes.github)."""
