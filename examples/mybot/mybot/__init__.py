"""An example bot: the strategy is its own, execution and protection are safetrade's."""
