//! `pardot-auth keygen`: what `docs/connected-app-setup.md` does with `openssl req -x509 -newkey
//! rsa:2048`.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use clap::Args;
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, PKCS_RSA_SHA256, RsaKeySize};

use crate::{Failure, exit};

#[derive(Debug, Args)]
pub(crate) struct KeygenArgs {
    /// Directory to write NAME.key and NAME.crt into.
    #[arg(long, value_name = "DIR", default_value = ".")]
    out_dir: PathBuf,
    /// Base name of the files.
    #[arg(long, default_value = "connected-app")]
    name: String,
    /// The certificate's subject common name (shown on the connected app).
    #[arg(long, value_name = "CN", default_value = "pardot-auth connected app")]
    common_name: String,
    /// Days the certificate is valid.
    #[arg(long, default_value_t = 730, value_parser = clap::value_parser!(u32).range(1..=36500))]
    days: u32,
    /// Replace existing files.
    #[arg(long)]
    force: bool,
}

pub(crate) fn run(args: &KeygenArgs) -> Result<(), Failure> {
    let key_path = args.out_dir.join(format!("{}.key", args.name));
    let cert_path = args.out_dir.join(format!("{}.crt", args.name));
    if !args.force {
        for path in [&key_path, &cert_path] {
            if path.exists() {
                return Err(Failure::new(
                    exit::LOCAL,
                    format!(
                        "{} exists; pass --force to replace it (the connected app keeps the old certificate until you upload the new one)",
                        path.display()
                    ),
                ));
            }
        }
    }
    let generate =
        |e: rcgen::Error| Failure::new(exit::FAILURE, format!("key generation failed: {e}"));
    let key = KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048).map_err(generate)?;
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(generate)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, args.common_name.as_str());
    params.distinguished_name = dn;
    let today = days_since_epoch(SystemTime::now());
    let (y, m, d) = civil_from_days(today);
    params.not_before = rcgen::date_time_ymd(y, m, d);
    let (y, m, d) = civil_from_days(today + i64::from(args.days));
    params.not_after = rcgen::date_time_ymd(y, m, d);
    let cert = params.self_signed(&key).map_err(generate)?;

    std::fs::create_dir_all(&args.out_dir).map_err(|e| {
        Failure::new(
            exit::LOCAL,
            format!("cannot create {}: {e}", args.out_dir.display()),
        )
    })?;
    write_private(&key_path, key.serialize_pem().as_bytes(), args.force)?;
    write_private(&cert_path, cert.pem().as_bytes(), args.force)?;

    let key_abs = std::path::absolute(&key_path).unwrap_or(key_path.clone());
    println!(
        "Wrote {} (2048-bit RSA private key, PKCS#8; keep it secret) and {} (self-signed X.509 \
         certificate, valid {} days), both mode 0600.",
        key_path.display(),
        cert_path.display(),
        args.days
    );
    println!(
        "Next steps:
  1. Salesforce Setup > App Manager > New Connected App: Enable OAuth Settings, tick \"Use digital
     signatures\" and upload {cert}; OAuth scopes: pardot_api (and api, refresh_token/offline_access).
  2. Manage > Edit Policies: Permitted Users = \"Admin approved users are pre-authorized\"; then add
     the integration user's profile or permission set to the app.
  3. Configure the JWT flow: put these lines in a .env file (or the environment) and replace
     each <…> value:
       PARDOT_AUTH_FLOW=jwt
       SF_CLIENT_ID=<consumer key of the app>
       SF_USERNAME=<username of the integration user>
       SF_PRIVATE_KEY_FILE={key}
       # Sandbox: SF_LOGIN_URL=https://test.salesforce.com and PARDOT_URL=https://pi.demo.pardot.com
       SF_LOGIN_URL=https://login.salesforce.com
       PARDOT_URL=https://pi.pardot.com
       PARDOT_BUSINESS_UNIT_ID=<0Uv… from Setup > Account Engagement > Business Unit Setup>
  4. Check the setup: pardot-auth whoami",
        cert = cert_path.display(),
        key = key_abs.display()
    );
    Ok(())
}

fn write_private(path: &Path, bytes: &[u8], replace: bool) -> Result<(), Failure> {
    let fail = |e: std::io::Error| {
        Failure::new(exit::LOCAL, format!("cannot write {}: {e}", path.display()))
    };
    let mut options = OpenOptions::new();
    options.write(true);
    if replace {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(fail)?;
    // An existing file replaced with --force keeps its old mode; narrow it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(fail)?;
    }
    file.write_all(bytes).map_err(fail)?;
    file.sync_all().map_err(fail)
}

fn days_since_epoch(t: SystemTime) -> i64 {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    i64::try_from(secs / 86_400).unwrap_or(0)
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i32, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        i32::try_from(y).unwrap_or(9999),
        u8::try_from(m).unwrap_or(1),
        u8::try_from(d).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::civil_from_days;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_000), (2024, 10, 4));
    }
}
