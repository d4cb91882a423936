"""The cohort simulator: a study whose truth is known (who loses their job, when, and why),
written through the services like real data, for the demo, the tests and the benchmarks."""
