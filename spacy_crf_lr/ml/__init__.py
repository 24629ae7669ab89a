"""Registered model architectures: the CRF tagger model and the character features."""
