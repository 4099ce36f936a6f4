"""The GitHub client seam: a narrow Protocol, plain dataclasses, one PyGithub adapter, an in-memory fake."""
