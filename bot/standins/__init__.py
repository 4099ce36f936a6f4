"""Stand-ins of outside services (GitHub), served over real HTTP for tests and the demo."""
