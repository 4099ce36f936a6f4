"""What a runner executes for a job (`python -m ci.generate`, `python -m ci.retrain`).

Thin: read arguments and environment, build real clients, call `lab`, report to GitHub through
the bot's client seam. No code from a pull request is ever executed: its files are read as data.
"""
