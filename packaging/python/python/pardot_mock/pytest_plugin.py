"""The pytest plugin this wheel registers (entry point `pytest11`).

`pardot_mock_server` is one mock for the whole session; `pardot_mock` is the same server,
reset before each test (tokens, data, faults, journal, counters and clock), so tests are
isolated without paying for a restart. The `pardot_mock_config` ini option (or
`--pardot-mock-config`) names a configuration file; default: the built-in one.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from ._mock import PardotMock


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("pardot_mock_config", "pardot-mock configuration file (default: built-in)")
    parser.addoption(
        "--pardot-mock-config",
        default=None,
        help="pardot-mock configuration file (default: the pardot_mock_config ini option)",
    )


@pytest.fixture(scope="session")
def pardot_mock_server(pytestconfig: pytest.Config) -> Iterator[PardotMock]:
    """One running mock for the session (stopped at its end)."""
    config = pytestconfig.getoption("--pardot-mock-config") or pytestconfig.getini("pardot_mock_config") or None
    with PardotMock(config=config) as mock:
        yield mock


@pytest.fixture
def pardot_mock(pardot_mock_server: PardotMock) -> PardotMock:
    """The session's mock, reset before this test."""
    pardot_mock_server.reset()
    return pardot_mock_server
