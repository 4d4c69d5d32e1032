"""Fixtures of the core tests."""

from __future__ import annotations

import pytest

from tests_support import SEED


@pytest.fixture
def seeded(service):
    """The test's collection holding SEED."""
    service.add(SEED)
    return service
