"""Stand-ins of outside services (GitHub, the Hugging Face Hub), served over real HTTP for tests and the demo."""
