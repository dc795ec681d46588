"""The tiers of a settlement, one module each, called in order by the engine."""
