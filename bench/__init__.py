"""Benchmarks of wartime-kg: build against bare spaCy, incremental rebuilds, Oxigraph against rdflib,
and peak memory against corpus size. Run `python -m bench` (see bench/__main__.py for what each number
means); the modules are importable on their own for ad-hoc measurements.
"""
