//! The pattern for field-less enums that may grow.

/// Growable field-less enums: a `u8` newtype with one constant per variant, so a
/// newer host can add a variant without changing the layout. Code compiled against an
/// older interface sees an unknown value and must handle it (`_` arms).
macro_rules! open_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $value:literal => $text:literal),+ $(,)? } unknown => $unknown:literal) => {
        $(#[$doc])*
        #[repr(transparent)]
        #[derive(abi_stable::StableAbi, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name(pub u8);

        impl $name {
            $($(#[$vdoc])* pub const $variant: $name = $name($value);)+

            /// The upper-case name OpenTelemetry SDKs use; unknown values give
            #[doc = concat!("`", $unknown, "`.")]
            pub fn as_str(self) -> &'static str {
                match self.0 {
                    $($value => $text,)+
                    _ => $unknown,
                }
            }

            /// Whether this interface version knows the value.
            #[allow(clippy::manual_range_patterns)]
            pub fn is_known(self) -> bool {
                matches!(self.0, $($value)|+)
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                if self.is_known() {
                    f.write_str(self.as_str())
                } else {
                    write!(f, "{}({})", stringify!($name), self.0)
                }
            }
        }
    };
}
