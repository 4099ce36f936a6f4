"""Where the Hugging Face Hub is and how to reach it: HF_ENDPOINT, HF_TOKEN and HF_HUB_OFFLINE, read one way.

The `lab` commands that pull, list or publish releases and the model resolvers read these through
`HubSettings.from_environ()` (schemas.env_settings): HF_HUB_OFFLINE is a boolean as huggingface_hub
spells it (1/true/yes/on or 0/false/no/off), and a value that is neither is one line naming it.
The token never appears in a repr or an error.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AliasChoices, Field

from schemas.env_settings import EnvSettings

TOKEN_ENV = "HF_TOKEN"


class HubSettings(EnvSettings):
    endpoint: Annotated[str | None, Field(validation_alias=AliasChoices("HF_ENDPOINT", "endpoint"))] = None  # None: huggingface.co
    token: Annotated[str | None, Field(repr=False, validation_alias=AliasChoices(TOKEN_ENV, "token"))] = None  # never shown
    offline: Annotated[bool, Field(validation_alias=AliasChoices("HF_HUB_OFFLINE", "offline"))] = False  # the cache only
