//! `pardot-auth whoami`: the library's [`diagnose`] in one line.
//!
//! It checks the credentials as configured, not the token kept from an earlier run: a fresh
//! token (kept in the store only when it came), userinfo, and one cheap Pardot call. `OK: …`
//! on stdout; otherwise the diagnosis (`not approved: …`, `wrong BU: …`, `wrong password: …`)
//! with its fix on stderr and the exit code of its class.

use pardot_auth::{Diagnosis, diagnose};

use crate::{Failure, Global, class_code, connector, exit};

pub(crate) async fn run(global: &Global) -> Result<(), Failure> {
    let (connector, _store) = connector(global).await?;
    let found = diagnose(&connector).await;
    let code = match (&found, found.class()) {
        (_, None) => {
            println!("{found}");
            return Ok(());
        }
        (Diagnosis::TokenStore { .. }, _) => exit::LOCAL,
        (_, Some(class)) => class_code(class),
    };
    Err(Failure::new(code, found.to_string()))
}
