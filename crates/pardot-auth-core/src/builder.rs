//! [`builder_setters!`](crate::builder_setters): the consuming setters of the crates' builders.

/// Writes a builder's consuming setters, one line each, keeping every setter's rustdoc.
///
/// Every builder in the pardot-auth crates has runs of setters that only store their argument
/// (`pub fn clock(mut self, clock: SharedClock) -> Self { self.clock = Some(clock); self }`).
/// Written out, each is five lines of the same shape; here each is one line that says what it
/// stores. Three forms, freely mixed:
///
/// - `pub fn name(value: Type, …) => field = expression;` stores the expression of its
///   arguments (a field path such as `settings.timeout` works too);
/// - `pub fn name() => field = expression;` takes no argument (`no_proxy() => no_proxy = true`);
/// - `pub fn name(value: Type) => forward inner;` hands the value to the embedded builder
///   `inner`'s setter of the same name (`self.inner = self.inner.name(value)`).
///
/// Attributes and doc comments before a setter stay on it.
///
/// ```
/// use std::time::Duration;
///
/// #[derive(Default)]
/// struct Inner { limit: usize }
/// impl Inner {
///     pardot_auth_core::builder_setters! {
///         /// The most bytes to read.
///         pub fn limit(limit: usize) => limit = limit;
///     }
/// }
///
/// #[derive(Default)]
/// struct Builder { timeout: Option<Duration>, quiet: bool, range: (u8, u8), inner: Inner }
/// impl Builder {
///     pardot_auth_core::builder_setters! {
///         /// How long one exchange may take.
///         pub fn timeout(timeout: Duration) => timeout = Some(timeout);
///         /// Says nothing.
///         pub fn quiet() => quiet = true;
///         /// From `low` to at least `low`.
///         pub fn range(low: u8, high: u8) => range = (low, high.max(low));
///         /// The inner builder's bound.
///         pub fn limit(limit: usize) => forward inner;
///     }
/// }
///
/// let b = Builder::default().timeout(Duration::from_secs(3)).quiet().range(4, 2).limit(7);
/// assert_eq!((b.timeout, b.quiet, b.range, b.inner.limit), (Some(Duration::from_secs(3)), true, (4, 4), 7));
/// ```
#[macro_export]
macro_rules! builder_setters {
    () => {};
    (
        $(#[$attr:meta])*
        $vis:vis fn $name:ident($($value:ident: $ty:ty),+) => forward $inner:ident;
        $($rest:tt)*
    ) => {
        $(#[$attr])*
        $vis fn $name(mut self, $($value: $ty),+) -> Self {
            self.$inner = self.$inner.$name($($value),+);
            self
        }
        $crate::builder_setters!($($rest)*);
    };
    (
        $(#[$attr:meta])*
        $vis:vis fn $name:ident() => $($field:ident).+ = $stored:expr;
        $($rest:tt)*
    ) => {
        $(#[$attr])*
        $vis fn $name(mut self) -> Self {
            self.$($field).+ = $stored;
            self
        }
        $crate::builder_setters!($($rest)*);
    };
    (
        $(#[$attr:meta])*
        $vis:vis fn $name:ident($($value:ident: $ty:ty),+) => $($field:ident).+ = $stored:expr;
        $($rest:tt)*
    ) => {
        $(#[$attr])*
        $vis fn $name(mut self, $($value: $ty),+) -> Self {
            self.$($field).+ = $stored;
            self
        }
        $crate::builder_setters!($($rest)*);
    };
}
