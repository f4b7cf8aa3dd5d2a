"""The synthetic Ningbo demo city: real district boundaries, generated everything below them."""
