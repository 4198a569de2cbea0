"""The shipped study configs, installed as the data package `kuramoto_jax.configs`.

A config's name is its path under this folder without `.yaml`: `quickstart`,
`kuranet/global_case1`, `ep/vowels_ai` (`kuramoto-jax run NAME`).
"""
