'use strict';
// The `pardot-mock` binary of this package as a child process, and its `/__mock/...` admin
// routes as methods. CommonJS with named exports, so `require`, `import`, Jest and Vitest all
// load it; no globals are assumed or set.

const { spawn } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');

// How often readiness is polled while the binary starts.
const POLL_INTERVAL_MS = 10;

/** An admin route answered with an error, or the mock could not be reached. */
class PardotMockError extends Error {
  constructor(message, { status, body } = {}) {
    super(message);
    this.name = 'PardotMockError';
    this.status = status;
    this.body = body ?? '';
  }
}

/** The binary did not become ready; `stderr` holds what it printed (the reason). */
class PardotMockStartError extends PardotMockError {
  constructor(message, stderr) {
    super(stderr ? `${message}\n--- pardot-mock stderr ---\n${stderr.trimEnd()}` : message);
    this.name = 'PardotMockStartError';
    this.stderr = stderr;
  }
}

/** The executable: `$PARDOT_MOCK_BINARY`, else the one in this package. */
function findBinary() {
  return process.env.PARDOT_MOCK_BINARY || path.join(__dirname, 'bin', 'pardot-mock');
}

function freeLoopbackPort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class PardotMock {
  constructor(child, url) {
    this._child = child;
    this._exited = new Promise((resolve) => child.once('exit', resolve));
    /** The base URL (`http://127.0.0.1:PORT`): production login host and Pardot API. */
    this.url = url;
    /** The sandbox login host (`test.salesforce.com`). */
    this.sandboxUrl = `${url}/sandbox`;
    /** The Pardot demo host (`pi.demo.pardot.com`). */
    this.demoUrl = `${url}/demo`;
  }

  /** A My Domain login host (`NAME.my.salesforce.com`). */
  myDomainUrl(name) {
    return `${this.url}/my/${encodeURIComponent(name)}`;
  }

  /** `GET /__mock/health`: `{ status: 'ok', version }`. */
  health() {
    return this._admin('GET', 'health');
  }

  /** The journal's entries, oldest first, credentials masked (the last `limit` only). */
  async journal(limit) {
    const query = limit === undefined ? '' : `?limit=${Number(limit)}`;
    return (await this._admin('GET', `journal${query}`)).entries;
  }

  /** Requests by route and outcome: `{ 'oauth.token': { ok: 1 }, ... }`. */
  counts() {
    return this._admin('GET', 'counts');
  }

  /** The mock clock, in milliseconds since the Unix epoch. */
  async nowMs() {
    return (await this._admin('GET', 'clock')).now_ms;
  }

  /** Moves the mock clock forward; resolves to the new time in milliseconds. */
  async advanceClock(seconds) {
    const millis = Math.round(seconds * 1000);
    if (!(millis >= 0)) throw new RangeError('the mock clock only moves forward');
    const body = { seconds: Math.floor(millis / 1000), millis: millis % 1000 };
    return (await this._admin('POST', 'clock/advance', body)).now_ms;
  }

  /** `POST /__mock/faults` with `{ kind, ...fields }` (see the mock guide). */
  async fault(kind, fields = {}) {
    await this._admin('POST', 'faults', { kind, ...fields });
  }

  /** Expires every access token now, or one user's. */
  expireTokens(username) {
    return this.fault('expire_tokens', username === undefined ? {} : { username });
  }

  /** Forgets everything tests did (tokens, journal, counters, faults, data, the clock). */
  async reset() {
    await this._admin('POST', 'reset');
  }

  /** A live access token for `username` through the app `consumerKey`, without a flow. */
  async issueAccessToken(username, consumerKey) {
    const body = { username, consumer_key: consumerKey };
    return (await this._admin('POST', 'tokens', body)).access_token;
  }

  /** Approves a pending device-flow user code as `username`. */
  async approveDevice(userCode, username) {
    await this._admin('POST', `device/${encodeURIComponent(userCode)}/approve`, { username });
  }

  /**
   * Plays the person on the login and consent pages of `authorizeUrl`: resolves to
   * `{ redirect_url, code, state, error }` of the redirect to the callback.
   */
  signIn({ authorizeUrl, username, password, consent = 'allow' }) {
    const body = { authorize_url: authorizeUrl, username, password, consent };
    return this._admin('POST', 'sign-in', body);
  }

  /**
   * Plays the person on the device flow's pages for `userCode`: resolves to
   * `{ message, consent_shown }` of the final page.
   */
  signInDevice({ userCode, username, password, consent = 'allow' }) {
    const body = { user_code: userCode, username, password, consent };
    return this._admin('POST', 'sign-in-device', body);
  }

  /** Stops the binary (SIGTERM, then SIGKILL after 10 s); resolves once it has exited. */
  async stop() {
    if (this._child.exitCode !== null || this._child.signalCode !== null) return;
    this._child.kill('SIGTERM');
    const timer = setTimeout(() => this._child.kill('SIGKILL'), 10_000);
    try {
      await this._exited;
    } finally {
      clearTimeout(timer);
    }
  }

  async _admin(method, route, body) {
    const init = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { 'content-type': 'application/json' };
    }
    const response = await fetch(`${this.url}/__mock/${route}`, init);
    const text = await response.text();
    if (!response.ok) {
      throw new PardotMockError(`${method} /__mock/${route} answered ${response.status}: ${text}`, {
        status: response.status,
        body: text,
      });
    }
    return text ? JSON.parse(text) : undefined;
  }
}

/**
 * Starts `pardot-mock serve` and resolves once `GET /__mock/health` answers.
 * Options: `config` (a TOML file; default: the built-in configuration), `addr` (default: a
 * free loopback port), `publicUrl`, `binary`, `env`, `startupTimeoutMs` (default 30 000).
 * Rejects with a `PardotMockStartError` carrying the binary's stderr when it cannot start.
 */
async function startPardotMock(options = {}) {
  const { config, publicUrl, binary = findBinary(), env = process.env } = options;
  const startupTimeoutMs = options.startupTimeoutMs ?? 30_000;
  const addr = options.addr ?? `127.0.0.1:${await freeLoopbackPort()}`;
  const args = ['serve', '--addr', addr];
  if (config !== undefined) args.push('--config', String(config));
  if (publicUrl !== undefined) args.push('--public-url', publicUrl);

  const child = spawn(binary, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const spawnError = new Promise((resolve) => child.once('error', resolve));
  const separator = addr.lastIndexOf(':');
  let host = addr.slice(0, separator);
  if (host === '0.0.0.0' || host === '[::]') host = '127.0.0.1';
  const mock = new PardotMock(child, `http://${host}:${addr.slice(separator + 1)}`);

  const deadline = Date.now() + startupTimeoutMs;
  for (;;) {
    const failed = await Promise.race([spawnError, sleep(0).then(() => undefined)]);
    if (failed) throw new PardotMockStartError(`could not run ${binary}: ${failed.message}`, '');
    if (child.exitCode !== null || child.signalCode !== null) {
      await new Promise((resolve) => (child.stderr.readableEnded ? resolve() : child.stderr.once('end', resolve)));
      const status = child.exitCode ?? child.signalCode;
      throw new PardotMockStartError(`pardot-mock exited with status ${status} before it was ready`, stderr);
    }
    try {
      if ((await mock.health()).status === 'ok') return mock;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await mock.stop();
      throw new PardotMockStartError(`pardot-mock was not ready within ${startupTimeoutMs} ms`, stderr);
    }
    await sleep(POLL_INTERVAL_MS);
  }
}

module.exports = { startPardotMock, findBinary, PardotMock, PardotMockError, PardotMockStartError };
