//! [`debug_shows!`](crate::debug_shows): `Debug` for the types that show only some fields.

/// Implements `Debug` as a struct of the fields named, with `..` for the ones left out.
///
/// Most types of the pardot-auth crates hold a secret (a token, a password, a key) or a
/// handle not worth printing (a client, a listener), so their `Debug` lists what helps and
/// leaves the rest out. Naming only what is shown keeps a field added later out of the
/// output until someone decides it may be printed, which is the safe default for secrets.
///
/// `Type as name { label: expression, … }` shows each `expression` (evaluated with `name`
/// bound to `&self`) under `label`; a generic type lists its parameters: `Type<C> as name`.
/// `Type as name, complete { … }` is for a type that names every field (a secret one as
/// `"[redacted]"`): its output has no `..`.
///
/// ```
/// use secrecy::SecretString;
///
/// struct Login { user: String, password: SecretString, attempts: u32 }
/// pardot_auth_core::debug_shows!(Login as login { user: login.user, attempts: login.attempts });
///
/// let login = Login { user: "api@example.com".into(), password: "hunter2".into(), attempts: 1 };
/// assert_eq!(format!("{login:?}"), r#"Login { user: "api@example.com", attempts: 1, .. }"#);
/// ```
#[macro_export]
macro_rules! debug_shows {
    (
        $name:ident $(<$($param:ident),+>)? as $this:ident, complete {
            $($label:ident: $shown:expr),* $(,)?
        }
    ) => {
        impl $(<$($param),+>)? ::std::fmt::Debug for $name $(<$($param),+>)? {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                let $this = self;
                f.debug_struct(stringify!($name))
                    $(.field(stringify!($label), &$shown))*
                    .finish()
            }
        }
    };
    (
        $name:ident $(<$($param:ident),+>)? as $this:ident {
            $($label:ident: $shown:expr),* $(,)?
        }
    ) => {
        impl $(<$($param),+>)? ::std::fmt::Debug for $name $(<$($param),+>)? {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                #[allow(unused_variables)]
                let $this = self;
                f.debug_struct(stringify!($name))
                    $(.field(stringify!($label), &$shown))*
                    .finish_non_exhaustive()
            }
        }
    };
}
