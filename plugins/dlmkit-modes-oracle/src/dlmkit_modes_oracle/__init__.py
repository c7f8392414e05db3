"""The exact teacher of the ``modes`` proof task, as a dlmkit teacher plugin."""

from dlmkit_modes_oracle.oracle import ModesOracle, ModesOracleParams, build_modes_oracle

__all__ = ["ModesOracle", "ModesOracleParams", "build_modes_oracle"]
