//! The status names the read models' views hold (`&'static str`, so that a view costs a pointer, not a
//! string), and their reading back from a snapshot (`engine::snapshot`): a name is mapped to the one static
//! string of that name, and a name no model writes is refused, so a snapshot cannot add statuses.

/// A view's status name. An alias, so that serde's derive does not see a borrowed `&'static str` (which
/// would bind its `Deserialize` to `'static` input); [`deserialize`] reads it.
pub type Status = &'static str;

/// Every status name a view of this crate holds.
pub const ALL: [&str; 19] = [
    "pending",
    "verified",
    "rejected",
    "suspended",
    "applied",
    "announced",
    "admitted",
    "submitted",
    "signed",
    "filed",
    "cancelled",
    "completed",
    "requested",
    "payable",
    "struck",
    "denied",
    "disbursed",
    "approved",
    "reduced",
];

/// The static string of a status name.
pub fn lookup(name: &str) -> Option<&'static str> {
    ALL.iter().copied().find(|status| *status == name)
}

/// Reads a status name (serde's `deserialize_with`).
///
/// # Errors
/// A name that is not in [`ALL`].
pub fn deserialize<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<&'static str, D::Error> {
    let name = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
    lookup(&name).ok_or_else(|| serde::de::Error::custom(format!("unknown status {name:?}")))
}
