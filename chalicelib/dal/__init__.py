"""Data layer: repositories over pynamodb models that return domain objects."""
