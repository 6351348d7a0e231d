"""Vigie's benchmarks: each a module run from the repository's root as
`python -m benchmarks.<name> [--quick]`, printing its figures beside a reference measured in
the same run and writing them to benchmarks/results/. `benchmarks.harness` is what they share;
tests/test_benchmarks_quick.py runs every `bench_*` module's quick mode once.
"""
