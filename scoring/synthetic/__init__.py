"""Synthetic evidence: the labelled 2017 demo and the national-scale load generator."""
