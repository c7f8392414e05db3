"""Inference: opening a run, recipe or checkpoint as models plus data, generating, choosing samplers,
building metric sets.

Training (``dlmkit.engine``) validates with it and evaluation (``dlmkit.evaluation``) scores with it;
it imports neither, so imports run one way: engine -> evaluation -> inference -> storage -> components.
"""
