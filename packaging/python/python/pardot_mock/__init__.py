"""pardot-mock for Python tests: start the mock binary this wheel installs and script it.

TEST ONLY: the mock accepts the public fixture credentials of the pardot-auth repository.
"""

from importlib.metadata import PackageNotFoundError, version

from ._mock import PardotMock, PardotMockError, PardotMockStartError, find_binary

try:
    __version__ = version("pardot-mock")
except PackageNotFoundError:  # imported from a source tree, not installed
    __version__ = "0+unknown"

__all__ = ["PardotMock", "PardotMockError", "PardotMockStartError", "find_binary", "__version__"]
