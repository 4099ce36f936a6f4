"""Local stand-ins of remote services (the Hugging Face Hub), for tests, the demo and air-gapped trials."""

from lab.standins.hub import HubStandIn, HubState

__all__ = ["HubStandIn", "HubState"]
