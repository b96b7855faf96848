"""Fixtures of the memorization tests."""

import numpy as np
import pytest

from tests.memorization.capacity_setup import T, mt
from tests.memorization.synthetic import as_tables, make_tables


@pytest.fixture(scope="module")
def u() -> np.ndarray:
    """One input stream, i.i.d. Uniform[0, 1] (memorization.md §9.2 step 1), the schema's length."""
    return mt(12345).random(T)


@pytest.fixture(scope="module")
def default_frames():
    return make_tables("default")


@pytest.fixture(scope="module")
def default_tables(default_frames):
    return as_tables(default_frames)
