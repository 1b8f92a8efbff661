//! How much one request may ask for.

/// The largest request body taken, in bytes (1 MiB). A larger body is refused with 413
/// before it is parsed.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The most group members one POST, PUT or PATCH may name (adds, removals and
/// replacements together). Okta pushes a group's members in batches and Entra ID sends a
/// few per PATCH, so 10,000 is far above what either sends and still small enough that a
/// store applies it in bounded work. More is refused with `tooMany`.
pub const MAX_MEMBERS_PER_REQUEST: usize = 10_000;

/// The most operations one PATCH may carry. More is refused with `tooMany`. IdPs send a
/// handful (Entra ID one per changed attribute; Okta and Entra ID many members in one
/// operation), and the bound, with [`MAX_ATTRIBUTE_VALUES`], keeps applying a PATCH to a
/// user within a few hundred thousand steps.
pub const MAX_PATCH_OPERATIONS: usize = 1_000;

/// The most values a multi-valued attribute of a user (`emails`, and those dropped
/// such as `phoneNumbers`) may hold, in a request or after a PATCH. More is refused with
/// `tooMany`: nobody has a hundred addresses, and the bound keeps each PATCH operation's
/// work small.
pub const MAX_ATTRIBUTE_VALUES: usize = 100;

/// The longest filter taken, in bytes (4 KiB) after percent-decoding. Longer is refused
/// with `invalidFilter`.
pub const MAX_FILTER_BYTES: usize = 4 * 1024;

/// How deeply a filter may nest parentheses, `not (…)` and value paths `[…]`. Deeper is
/// refused with `invalidFilter`, so that hostile input cannot exhaust the stack.
pub const MAX_FILTER_DEPTH: usize = 32;

/// The largest page a list returns (`count` above it is lowered to it), also published as
/// `filter.maxResults`. Okta and Entra ID ask for 100 at a time.
pub const MAX_PAGE_SIZE: u64 = 200;

/// The request limits, [`Limits::default`] being the constants above.
///
/// ```
/// use jit_provisioning_scim::{Limits, MAX_BODY_BYTES};
///
/// let limits = Limits::default().with_max_members_per_request(500);
/// assert_eq!(limits.max_members_per_request, 500);
/// assert_eq!(limits.max_body_bytes, MAX_BODY_BYTES);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// See [`MAX_BODY_BYTES`].
    pub max_body_bytes: usize,
    /// See [`MAX_MEMBERS_PER_REQUEST`].
    pub max_members_per_request: usize,
    /// See [`MAX_PATCH_OPERATIONS`].
    pub max_patch_operations: usize,
    /// See [`MAX_FILTER_BYTES`].
    pub max_filter_bytes: usize,
    /// See [`MAX_FILTER_DEPTH`].
    pub max_filter_depth: usize,
    /// See [`MAX_PAGE_SIZE`].
    pub max_page_size: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: MAX_BODY_BYTES,
            max_members_per_request: MAX_MEMBERS_PER_REQUEST,
            max_patch_operations: MAX_PATCH_OPERATIONS,
            max_filter_bytes: MAX_FILTER_BYTES,
            max_filter_depth: MAX_FILTER_DEPTH,
            max_page_size: MAX_PAGE_SIZE,
        }
    }
}

impl Limits {
    /// With another body size limit.
    pub fn with_max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// With another limit on the members one request names.
    pub fn with_max_members_per_request(mut self, members: usize) -> Self {
        self.max_members_per_request = members;
        self
    }

    /// With another limit on the operations of one PATCH.
    pub fn with_max_patch_operations(mut self, operations: usize) -> Self {
        self.max_patch_operations = operations;
        self
    }

    /// With another filter length limit.
    pub fn with_max_filter_bytes(mut self, bytes: usize) -> Self {
        self.max_filter_bytes = bytes;
        self
    }

    /// With another filter nesting limit.
    pub fn with_max_filter_depth(mut self, depth: usize) -> Self {
        self.max_filter_depth = depth;
        self
    }

    /// With another page size limit.
    pub fn with_max_page_size(mut self, size: u64) -> Self {
        self.max_page_size = size;
        self
    }
}
