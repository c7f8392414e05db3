"""What dlmkit keeps on disk: atomic writes, checkpoints, teacher files and a run folder's layout.

Below training, inference and evaluation, which all read and write through it.
"""
