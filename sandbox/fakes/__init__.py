"""In-memory fakes of outside services, for tests and benchmarks."""
