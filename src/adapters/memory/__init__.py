"""In-memory adapters: the fakes every unit test uses, held to the same contract suites."""
