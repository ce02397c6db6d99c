"""Solving the master problem: which candidates to choose."""
