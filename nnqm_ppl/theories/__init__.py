"""Theories: a validated model spec turned into something that draws (a NumPyro model or an exact
sampler) and knows the exact values the suite compares with. One module per model family.
"""
