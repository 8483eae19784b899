"""The `pardot-mock` binary as a child process, and its `/__mock/...` admin routes as methods."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sysconfig
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from types import TracebackType
from typing import IO, Any, Dict, List, Mapping, Optional, Type, Union

__all__ = ["PardotMock", "PardotMockError", "PardotMockStartError", "find_binary"]

# The mock is on loopback (or reached by name in a test network): a proxy from the environment
# must never see its traffic.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

# How often readiness is polled while the binary starts.
_POLL_INTERVAL = 0.01


class PardotMockError(Exception):
    """An admin route answered with an error, or the mock could not be reached."""

    def __init__(self, message: str, status: Optional[int] = None, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class PardotMockStartError(PardotMockError):
    """The binary did not become ready; `stderr` holds what it printed (the reason)."""

    def __init__(self, message: str, stderr: str) -> None:
        super().__init__(f"{message}\n--- pardot-mock stderr ---\n{stderr.rstrip()}" if stderr else message)
        self.stderr = stderr


def find_binary() -> str:
    """The `pardot-mock` executable: `$PARDOT_MOCK_BINARY`, the one this wheel installed
    beside the interpreter, or the first on `PATH`."""
    explicit = os.environ.get("PARDOT_MOCK_BINARY")
    if explicit:
        return explicit
    installed = os.path.join(sysconfig.get_path("scripts"), "pardot-mock")
    if os.path.isfile(installed):
        return installed
    on_path = shutil.which("pardot-mock")
    if on_path:
        return on_path
    raise PardotMockError(
        "pardot-mock executable not found: install the pardot-mock wheel or set PARDOT_MOCK_BINARY"
    )


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PardotMock:
    """A running `pardot-mock serve`: a start/stop object and a context manager.

    Without `addr` it listens on a free loopback port. `config` is a TOML file (default: the
    built-in configuration); `public_url` is the base it advertises when clients reach it by
    another name. `start()` returns once `GET /__mock/health` answers, or raises
    `PardotMockStartError` with the binary's stderr.
    """

    def __init__(
        self,
        config: Union[str, "os.PathLike[str]", None] = None,
        *,
        addr: Optional[str] = None,
        public_url: Optional[str] = None,
        binary: Optional[str] = None,
        env: Optional[Mapping[str, str]] = None,
        startup_timeout: float = 30.0,
    ) -> None:
        self._config = os.fspath(config) if config is not None else None
        self._addr = addr
        self._public_url = public_url
        self._binary = binary
        self._env = dict(env) if env is not None else None
        self._startup_timeout = startup_timeout
        self._process: Optional["subprocess.Popen[bytes]"] = None
        self._stderr: Optional[IO[bytes]] = None
        self._url: Optional[str] = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> "PardotMock":
        """Starts the binary and waits until it is ready; returns `self`."""
        if self._process is not None:
            raise PardotMockError("pardot-mock is already running")
        addr = self._addr or f"127.0.0.1:{_free_loopback_port()}"
        args = [self._binary or find_binary(), "serve", "--addr", addr]
        if self._config is not None:
            args += ["--config", self._config]
        if self._public_url is not None:
            args += ["--public-url", self._public_url]
        # Flags win over the binary's PARDOT_MOCK_* variables; those still apply to the rest.
        env = dict(os.environ if self._env is None else self._env)
        # A file, not a pipe: a chatty mock can never block on a full pipe nobody reads.
        self._stderr = tempfile.TemporaryFile()
        try:
            self._process = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr, env=env
            )
        except OSError as error:
            self._close_stderr()
            raise PardotMockStartError(f"could not run {args[0]}: {error}", "") from error
        host, _, port = addr.rpartition(":")
        if host in ("0.0.0.0", "[::]", "::"):
            host = "127.0.0.1"
        self._url = f"http://{host}:{port}"
        self._wait_until_ready()
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self._startup_timeout
        while True:
            process = self._process
            assert process is not None
            if process.poll() is not None:
                stderr = self._read_stderr()
                self._forget_process()
                raise PardotMockStartError(
                    f"pardot-mock exited with status {process.returncode} before it was ready", stderr
                )
            try:
                if self.health().get("status") == "ok":
                    return
            except (OSError, PardotMockError, ValueError):
                pass  # not listening yet
            if time.monotonic() > deadline:
                stderr = self._read_stderr()
                self.stop()
                raise PardotMockStartError(
                    f"pardot-mock was not ready within {self._startup_timeout:g} s", stderr
                )
            time.sleep(_POLL_INTERVAL)

    def stop(self) -> None:
        """Stops the binary (SIGTERM, then SIGKILL after 10 s); a no-op when not running."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._forget_process()

    def _forget_process(self) -> None:
        self._process = None
        self._url = None
        self._close_stderr()

    def _read_stderr(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    def _close_stderr(self) -> None:
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> "PardotMock":
        return self.start()

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.stop()

    # -- URLs -----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL (`http://127.0.0.1:PORT`): production login host and Pardot API."""
        if self._url is None:
            raise PardotMockError("pardot-mock is not running: call start() first")
        return self._url

    @property
    def sandbox_url(self) -> str:
        """The sandbox login host (`test.salesforce.com`)."""
        return self.url + "/sandbox"

    @property
    def demo_url(self) -> str:
        """The Pardot demo host (`pi.demo.pardot.com`)."""
        return self.url + "/demo"

    def my_domain_url(self, name: str) -> str:
        """A My Domain login host (`NAME.my.salesforce.com`)."""
        return f"{self.url}/my/{urllib.parse.quote(name, safe='')}"

    # -- admin routes ---------------------------------------------------------------------

    def health(self) -> Dict[str, Any]:
        """`GET /__mock/health`: `{"status": "ok", "version": ...}`."""
        return self._admin("GET", "health")

    def journal(self, limit: Optional[int] = None) -> List[Dict[str, Any]]:
        """The journal's entries, oldest first, credentials masked (the last `limit` only)."""
        query = "" if limit is None else f"?limit={int(limit)}"
        return list(self._admin("GET", "journal" + query)["entries"])

    def counts(self) -> Dict[str, Dict[str, int]]:
        """Requests by route and outcome: `{"oauth.token": {"ok": 1}, ...}`."""
        return self._admin("GET", "counts")

    def now_ms(self) -> int:
        """The mock clock, in milliseconds since the Unix epoch."""
        return int(self._admin("GET", "clock")["now_ms"])

    def advance_clock(self, seconds: float) -> int:
        """Moves the mock clock forward; returns the new time in milliseconds."""
        millis = round(seconds * 1000)
        if millis < 0:
            raise ValueError("the mock clock only moves forward")
        body = {"seconds": millis // 1000, "millis": millis % 1000}
        return int(self._admin("POST", "clock/advance", body)["now_ms"])

    def fault(self, kind: str, **fields: Any) -> None:
        """`POST /__mock/faults` with `{"kind": kind, **fields}` (see the mock guide)."""
        self._admin("POST", "faults", {"kind": kind, **fields})

    def expire_tokens(self, username: Optional[str] = None) -> None:
        """Expires every access token now, or one user's."""
        if username is None:
            self.fault("expire_tokens")
        else:
            self.fault("expire_tokens", username=username)

    def reset(self) -> None:
        """Forgets everything tests did (tokens, journal, counters, faults, Pardot data, the
        clock): the state of a fresh start, without a restart."""
        self._admin("POST", "reset")

    def issue_access_token(self, username: str, consumer_key: str) -> str:
        """A live access token for `username` through the app `consumer_key`, without a flow."""
        body = {"username": username, "consumer_key": consumer_key}
        return str(self._admin("POST", "tokens", body)["access_token"])

    def approve_device(self, user_code: str, username: str) -> None:
        """Approves a pending device-flow user code as `username`."""
        path = f"device/{urllib.parse.quote(user_code, safe='')}/approve"
        self._admin("POST", path, {"username": username})

    def sign_in(
        self, authorize_url: str, username: str, password: str, consent: str = "allow"
    ) -> Dict[str, Any]:
        """Plays the person on the login and consent pages of `authorize_url`: returns
        `{"redirect_url", "code", "state", "error", ...}` of the redirect to the callback
        (not followed)."""
        body = {
            "authorize_url": authorize_url,
            "username": username,
            "password": password,
            "consent": consent,
        }
        return self._admin("POST", "sign-in", body)

    def sign_in_device(
        self, user_code: str, username: str, password: str, consent: str = "allow"
    ) -> Dict[str, Any]:
        """Plays the person on the device flow's pages for `user_code`: returns
        `{"message", "consent_shown"}` of the final page (the device's next poll gets tokens
        when consent was allowed)."""
        body = {"user_code": user_code, "username": username, "password": password, "consent": consent}
        return self._admin("POST", "sign-in-device", body)

    def _admin(self, method: str, path: str, body: Optional[Dict[str, Any]] = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}/__mock/{path}", data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with _OPENER.open(request, timeout=30) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as error:
            text = error.read().decode("utf-8", "replace")
            raise PardotMockError(
                f"{method} /__mock/{path} answered {error.code}: {text}", error.code, text
            ) from None
        return json.loads(text) if text else None
