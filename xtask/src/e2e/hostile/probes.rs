//! The hostile requests: a deterministic generator and the request shapes it draws from
//! (malformed framing, odd headers, hostile JWTs, huge queries), one [`Probe`] per index.

use pardot_mock::fixtures;
use pardot_mock::front_door::MAX_BODY_BYTES;

use super::{Probe, Target};

/// A small deterministic generator (xorshift64*), so a failing run can be replayed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n.max(1) as u64).unwrap_or(0)
    }

    fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[self.below(items.len())]
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Paths of every kind the mock serves (no admin route: a random but valid fault would
/// change what the well-formed traffic gets), with some that are nothing.
const PATHS: &[&str] = &[
    "/services/oauth2/token",
    "/services/oauth2/revoke",
    "/services/oauth2/userinfo",
    "/services/oauth2/introspect",
    "/services/oauth2/authorize",
    "/id/00D5g00000AcmePEAR/0055g00000IntgAAAR",
    "/setup/connect",
    "/api/login/version/4",
    "/api/prospect/version/4/do/query",
    "/api/prospect/version/3/do/read/id/1001",
    "/api/campaign/version/4/do/query",
    "/api/v5/objects/prospects",
    "/api/v5/objects/prospects/1001",
    "/us1/token",
    "/us1/.well-known/openid-configuration",
    "/sandbox/services/oauth2/token",
    "/my/acme/services/oauth2/token",
    "/my/%%%/services/oauth2/token",
    "/demo/api/v5/objects/prospects",
    "/services/Soap/u/59.0",
    "/",
    "/nope/../../etc/passwd",
];

/// Read-only Pardot paths that a valid token gets past authentication on.
const READ_PATHS: &[&str] = &[
    "/demo/api/v5/objects/prospects",
    "/demo/api/prospect/version/4/do/query",
    "/demo/api/campaign/version/4/do/query",
    "/demo/api/account/version/4/do/read",
];

/// Host header values: hosts the mock serves, near misses and malformed ones.
const ODD_HOSTS: &[&str] = &[
    "acme.my.salesforce.com",
    "%zz.my.salesforce.com",
    "nobody.my.salesforce.com",
    "pi.pardot.com:99999",
    "[::1",
    "test.salesforce.com.evil.example",
    ".",
    "",
    "a..b",
    "my.salesforce.com",
    "pi.demo.pardot.com",
    "x\u{e9}.my.salesforce.com",
];

/// `Content-Length` lines that no parser should accept.
const BAD_CONTENT_LENGTHS: &[&str] = &[
    "Content-Length: -1\r\n",
    "Content-Length: abc\r\n",
    "Content-Length: 1, 2\r\n",
    "Content-Length: 99999999999999999999999\r\n",
    "Content-Length: 3\r\nContent-Length: 4\r\n",
    "Content-Length: +3\r\n",
];

/// Query criteria out of range, malformed or unknown.
const HOSTILE_CRITERIA: &[&str] = &[
    "fields=id,,,,%2C&limit=-1",
    "fields=id&limit=99999999999999999999999",
    "fields=id&orderBy=id%20SIDEWAYS",
    "fields=id&createdAtAfter=9999-99-99T99:99:99Z",
    "fields=id&nextPageToken=%FF%FE%00garbage",
    "fields=id&idGreaterThan=1e400",
    "created_after=2024-02-30%2025:61:61&offset=-5&sort_by=&limit=0",
    "id_greater_than=-9223372036854775809&format=json&output=bulk",
    "fields=campaign.id.name.x&deleted=maybe",
];

/// `Authorization` header values of the schemes the mock reads, malformed.
const ODD_AUTHORIZATIONS: &[&str] = &[
    "Pardot api_key=, user_key=",
    "Pardot ,,,,",
    "Pardot api_key=\"x",
    "Pardot user_key=a, user_key=b, api_key=c",
    "Bearer",
    "Bearer \u{0}",
    "Basic !!!",
    "Pardot api_key=a,user_key=b,api_key=a,user_key=b,api_key=a,user_key=b",
];

/// `grant_type` values, known and not.
const ODD_GRANTS: &[&str] = &[
    "password",
    "refresh_token",
    "authorization_code",
    "client_credentials",
    "urn:ietf:params:oauth:grant-type:device_code",
    "",
    "password&grant_type=refresh_token",
];

/// Paths that read a grant form.
const GRANT_PATHS: &[&str] = &[
    "/services/oauth2/token",
    "/sandbox/services/oauth2/token",
    "/api/login/version/4",
    "/services/oauth2/revoke",
];

/// The request `i` of the run: shape `i % SHAPES`, its details drawn from a generator seeded
/// with `i`.
pub(super) fn probe(i: u64, target: &Target) -> Probe {
    let mut rng = Rng::new(i);
    let path = rng.pick(PATHS).to_owned();
    let close = "Connection: close\r\n";
    let request = |method: &str, path: &str, headers: &str, body: &[u8]| {
        let mut bytes =
            format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}{close}\r\n")
                .into_bytes();
        bytes.extend_from_slice(body);
        bytes
    };
    // A POST whose Content-Length matches its body, after the `headers` given.
    let post = |path: &str, headers: &str, body: &str| {
        let headers = format!("{headers}Content-Length: {}\r\n", body.len());
        request("POST", path, &headers, body.as_bytes())
    };
    // A GET with this Host header line (none when `host` is `None`).
    let get_with_host = |path: &str, host: Option<&str>| {
        let host = host.map(|h| format!("Host: {h}\r\n")).unwrap_or_default();
        format!("GET {path} HTTP/1.1\r\n{host}{close}\r\n").into_bytes()
    };
    let form = "Content-Type: application/x-www-form-urlencoded\r\n";
    let json = "Content-Type: application/json\r\n";
    let (shape, path, bytes, half_close): (&'static str, String, Vec<u8>, bool) = match i % 16 {
        0 => {
            let long = "M".repeat(1 + rng.below(4000));
            let method = rng.pick(&[
                "FOO",
                "G E T",
                "GET\0",
                "get",
                "BREW",
                "DELETE",
                "PATCH",
                "OPTIONS",
                "TRACE",
                "CONNECT",
                "HEAD",
                long.as_str(),
            ]);
            let bytes = request(method, &path, "", b"");
            ("bad method", path, bytes, false)
        }
        1 => {
            let bytes = get_with_host(&path, None);
            ("missing Host", path, bytes, false)
        }
        2 => {
            let host = "h".repeat(1 + rng.below(200 * 1024));
            let bytes = get_with_host(&path, Some(&host));
            ("huge Host", path, bytes, false)
        }
        3 => {
            let host = rng.pick(ODD_HOSTS);
            let bytes = get_with_host(&path, Some(host));
            ("odd Host", path, bytes, false)
        }
        4 => {
            let body = "grant_type=password&username=a";
            let promised = body.len() + 1 + rng.below(1 << 20);
            let headers = format!("{form}Content-Length: {promised}\r\n");
            let bytes = request("POST", &path, &headers, body.as_bytes());
            ("Content-Length beyond the body", path, bytes, true)
        }
        5 => {
            let length = rng.pick(BAD_CONTENT_LENGTHS);
            let bytes = request("POST", &path, length, b"abcd");
            ("bad Content-Length", path, bytes, true)
        }
        6 => {
            let (te, body): (&str, &[u8]) = match rng.below(7) {
                0 => ("chunked", b"zz\r\nabc\r\n0\r\n\r\n"),
                1 => ("chunked", b"ffffffffffffffffffff\r\nabc\r\n0\r\n\r\n"),
                2 => ("chunked", b"5\r\nab\r\n0\r\n\r\n"),
                3 => ("chunked", b"3\r\nabcXX4\r\nabcd\r\n"),
                4 => ("chunked", b"10\r\nabc"),
                5 => ("gzip, chunked", b"3\r\nabc\r\n0\r\n\r\n"),
                _ => ("chunked, identity", b"3\r\nabc\r\n0\r\n\r\n"),
            };
            let extra = if rng.below(4) == 0 {
                "Content-Length: 3\r\n"
            } else {
                ""
            };
            let headers = format!("{form}Transfer-Encoding: {te}\r\n{extra}");
            let bytes = request("POST", &path, &headers, body);
            ("chunked encoding errors", path, bytes, true)
        }
        7 => {
            let n = 1 + rng.below(4096);
            ("random bytes", path, rng.bytes(n), true)
        }
        8 => {
            let assertion = hostile_jwt(&mut rng);
            let (path, body) = if rng.below(2) == 0 {
                (
                    "/services/oauth2/token".to_owned(),
                    format!(
                        "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion={assertion}"
                    ),
                )
            } else {
                (
                    "/us1/token".to_owned(),
                    format!(
                        "grant_type=client_credentials&client_assertion_type=\
                             urn:ietf:params:oauth:client-assertion-type:jwt-bearer&client_assertion={assertion}"
                    ),
                )
            };
            let bytes = post(&path, form, &body);
            ("invalid JWT with extreme claims", path, bytes, false)
        }
        9 => {
            let query = rng.pick(&[
                "?%zz=%&%%%=%ff%fe&fields=%E0%80",
                "?fields=id%00email&limit=%2",
                "?a=%F0%9F%98&b=%C0%AF",
                "?%",
            ]);
            let path = format!(
                "{}{query}",
                rng.pick(&[
                    path.as_str(),
                    "/services/oauth2/token%ff",
                    "/api/v5/objects/prospects%00"
                ])
            );
            let body = "grant_type=%zz&password=%&username=%E0%80%80";
            let headers = format!("{form}Authorization: Bearer %00%ff\r\n");
            let bytes = post(&path, &headers, body);
            ("bad percent-encoding", path, bytes, false)
        }
        10 => {
            let base = rng.pick(READ_PATHS);
            let query: String = (0..10_000).map(|n| format!("a{}=1&", n % 10)).collect();
            let path = format!("{base}?fields=id&{query}");
            let headers = demo_headers(target);
            let bytes = request("GET", &path, &headers, b"");
            ("10,000-parameter query", base.to_owned(), bytes, false)
        }
        11 => {
            let depth = 1 + rng.below(100_000);
            let body = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            let path = rng
                .pick(&[
                    "/__mock/faults",
                    "/services/oauth2/token",
                    "/us1/token",
                    "/api/v5/objects/prospects",
                ])
                .to_owned();
            let bytes = post(&path, json, &body);
            ("deep JSON", path, bytes, false)
        }
        12 => {
            let base = rng.pick(READ_PATHS);
            let junk = rng.pick(HOSTILE_CRITERIA);
            let path = format!("{base}?{junk}");
            let headers = demo_headers(target);
            let bytes = request("GET", &path, &headers, b"");
            (
                "valid token, hostile criteria",
                base.to_owned(),
                bytes,
                false,
            )
        }
        13 => {
            let auth = rng.pick(ODD_AUTHORIZATIONS);
            let path = rng.pick(READ_PATHS).to_owned();
            let headers = format!(
                "Authorization: {auth}\r\nPardot-Business-Unit-Id: {}\r\n",
                fixtures::DEMO_BUSINESS_UNIT_ID
            );
            let bytes = request("GET", &path, &headers, b"");
            ("odd Authorization header", path, bytes, false)
        }
        14 => {
            let grant = rng.pick(ODD_GRANTS);
            let long = "u".repeat(rng.below(100_000));
            let body = format!(
                "grant_type={grant}&client_id=nobody&username=nobody{long}@example&password=x&code=&refresh_token=%00&redirect_uri=javascript:alert(1)"
            );
            let path = rng.pick(GRANT_PATHS).to_owned();
            let bytes = post(&path, form, &body);
            ("odd grant forms", path, bytes, false)
        }
        _ => {
            // Now and then a body at, just under or past the size limit; otherwise one
            // of a random size up to 64 KiB.
            let size = if i % 400 == 15 {
                [
                    MAX_BODY_BYTES - 1,
                    MAX_BODY_BYTES,
                    MAX_BODY_BYTES + 1,
                    2 * MAX_BODY_BYTES,
                ][rng.below(4)]
            } else {
                rng.below(64 * 1024)
            };
            let body = format!("username={}", "b".repeat(size.saturating_sub(9)));
            let bytes = post(&path, form, &body);
            ("bodies up to the limit and past it", path, bytes, false)
        }
    };
    Probe {
        shape,
        path,
        bytes,
        half_close,
    }
}

/// The headers of a request that passes authentication on the demo business unit.
fn demo_headers(target: &Target) -> String {
    format!(
        "Authorization: Bearer {}\r\nPardot-Business-Unit-Id: {}\r\n",
        target.demo_token,
        fixtures::DEMO_BUSINESS_UNIT_ID
    )
}

/// A JWT that is wrong in one of many ways: extreme or wrongly typed claims, odd headers,
/// missing or extra parts, huge or non-base64 segments.
fn hostile_jwt(rng: &mut Rng) -> String {
    let b64 = base64_url;
    let header = rng.pick(&[
        r#"{"alg":"RS256"}"#,
        r#"{"alg":"none"}"#,
        r#"{"alg":"HS256","typ":"JWT"}"#,
        r#"{"alg":["RS256"]}"#,
        r#"{"alg":"RS256","kid":"../../etc/passwd","x5u":"http://127.0.0.1:1/"}"#,
        "[]",
        "not json",
    ]);
    let long = "i".repeat(rng.below(50_000));
    let claims = rng.pick(&[
        r#"{"iss":"3MVG9mock.JWT.app.consumer.key.for.tests","sub":"integration@acme.example","aud":"https://login.salesforce.com","exp":1e300}"#,
        r#"{"iss":1,"sub":null,"aud":[],"exp":-1}"#,
        r#"{"exp":18446744073709551616,"iat":-9223372036854775809,"nbf":"tomorrow"}"#,
        r#"{"exp":9223372036854775807,"aud":[[[[["x"]]]]],"sub":{"a":1}}"#,
        r#"{"exp":0.5,"iss":"","sub":"","aud":""}"#,
        r#"{"jti":"\u0000","exp":"1","iss":true}"#,
        "{}",
        "1",
        long.as_str(),
    ]);
    let signature_len = rng.below(600);
    let signature = b64(&rng.bytes(signature_len));
    match rng.below(6) {
        0 => format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes())),
        1 => format!(
            "{}.{}.{signature}.extra.parts",
            b64(header.as_bytes()),
            b64(claims.as_bytes())
        ),
        2 => format!("!!!.{}.***", b64(claims.as_bytes())),
        3 => format!("{}..", b64(header.as_bytes())),
        _ => format!(
            "{}.{}.{signature}",
            b64(header.as_bytes()),
            b64(claims.as_bytes())
        ),
    }
}

/// Unpadded base64url, as JWT segments are written.
fn base64_url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + 3);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (k, b)| n | u32::from(*b) << (16 - 8 * k));
        for k in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * k) & 63) as usize]));
        }
    }
    out
}
