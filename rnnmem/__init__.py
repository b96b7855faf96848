"""rnnmem: reproduction of three studies on the memory of recurrent networks."""

__version__ = "0.1.0"
