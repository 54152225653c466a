"""Saving and loading: Keras <-> torch weight layouts, weights files."""
