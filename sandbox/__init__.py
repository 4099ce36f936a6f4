"""Scaffolding around the product, kept out of the runtime packages: the demo, stand-ins of GitHub and
the Hub, the in-memory GitHub fake and the tiny-model builder. Installed as its own distribution
(`pip install -e ./sandbox`, which `make install` does); bot, ci, lab and schemas never import it.
"""
