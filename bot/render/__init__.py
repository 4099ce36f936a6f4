"""Text renderers for GitHub: check runs and comments."""
