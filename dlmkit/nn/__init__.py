"""Building blocks that embedding-diffusion networks share: time features and nearest-embedding rounding."""

from dlmkit.nn.rounding import DEFAULT_MAX_ELEMENTS, nearest_embedding
from dlmkit.nn.time_embedding import timestep_embedding

__all__ = ["DEFAULT_MAX_ELEMENTS", "nearest_embedding", "timestep_embedding"]
