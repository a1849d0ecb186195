"""store-kit: the one shared library of the Product Store services."""
