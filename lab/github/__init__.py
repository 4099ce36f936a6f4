"""The GitHub client seam, shared by the bot and the ci steps: a narrow Protocol, plain dataclasses,
App auth, retries and one PyGithub adapter (imported lazily: `import lab` never loads PyGithub).

The in-memory fake is sandbox.fakes.github.
"""
