// Types of the `pardot-mock` package (index.js).

/** Options of {@link startPardotMock}. */
export interface StartOptions {
  /** A TOML configuration file; default: the built-in configuration. */
  config?: string;
  /** The address to listen on (`HOST:PORT`); default: a free loopback port. */
  addr?: string;
  /** The base URL the mock advertises when clients reach it by another name. */
  publicUrl?: string;
  /** The executable; default: `$PARDOT_MOCK_BINARY`, else the one in this package. */
  binary?: string;
  /** The child's environment; default: `process.env`. */
  env?: Record<string, string | undefined>;
  /** How long to wait for readiness; default 30 000 ms. */
  startupTimeoutMs?: number;
}

/** `GET /__mock/health`. */
export interface Health {
  status: 'ok';
  version: string;
}

/** One journal entry, credentials masked. */
export interface JournalEntry {
  seq: number;
  at_ms: number;
  method: string;
  vhost: string;
  path: string;
  route: string;
  query: [string, string][];
  headers: [string, string][];
  form: [string, string][];
  body: string;
  status: number;
  outcome: string;
  [field: string]: unknown;
}

/** Requests by route and outcome: `{ 'oauth.token': { ok: 1 } }`. */
export type Counts = Record<string, Record<string, number>>;

/** What {@link PardotMock.signIn} takes. */
export interface SignInRequest {
  authorizeUrl: string;
  username: string;
  password: string;
  /** Default `'allow'`. */
  consent?: 'allow' | 'deny';
}

/** The redirect to the callback that a sign-in ended with. */
export interface SignInResult {
  redirect_url: string;
  code: string | null;
  state: string | null;
  error: string | null;
  error_description?: string | null;
  login_shown?: boolean;
  consent_shown?: boolean;
}

/** A running mock. */
export declare class PardotMock {
  private constructor();
  /** The base URL (`http://127.0.0.1:PORT`): production login host and Pardot API. */
  readonly url: string;
  /** The sandbox login host. */
  readonly sandboxUrl: string;
  /** The Pardot demo host. */
  readonly demoUrl: string;
  /** A My Domain login host. */
  myDomainUrl(name: string): string;
  health(): Promise<Health>;
  journal(limit?: number): Promise<JournalEntry[]>;
  counts(): Promise<Counts>;
  /** The mock clock, in milliseconds since the Unix epoch. */
  nowMs(): Promise<number>;
  /** Moves the mock clock forward; resolves to the new time in milliseconds. */
  advanceClock(seconds: number): Promise<number>;
  /** `POST /__mock/faults` with `{ kind, ...fields }`. */
  fault(kind: string, fields?: Record<string, unknown>): Promise<void>;
  expireTokens(username?: string): Promise<void>;
  /** Forgets everything tests did, the clock included, without a restart. */
  reset(): Promise<void>;
  issueAccessToken(username: string, consumerKey: string): Promise<string>;
  approveDevice(userCode: string, username: string): Promise<void>;
  signIn(request: SignInRequest): Promise<SignInResult>;
  signInDevice(request: {
    userCode: string;
    username: string;
    password: string;
    consent?: 'allow' | 'deny';
  }): Promise<{ message: string; consent_shown: boolean }>;
  /** Stops the binary; resolves once it has exited. */
  stop(): Promise<void>;
}

/** An admin route answered with an error, or the mock could not be reached. */
export declare class PardotMockError extends Error {
  readonly status?: number;
  readonly body: string;
}

/** The binary did not become ready; `stderr` holds what it printed. */
export declare class PardotMockStartError extends PardotMockError {
  readonly stderr: string;
}

/** Starts `pardot-mock serve` and resolves once it is ready. */
export declare function startPardotMock(options?: StartOptions): Promise<PardotMock>;

/** The executable this package runs. */
export declare function findBinary(): string;
