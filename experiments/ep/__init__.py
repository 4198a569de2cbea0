"""Equilibrium-propagation studies: gradient verification and vowel classification."""
