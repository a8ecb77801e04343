//! Who acts: jurisdictions, roles, applicant kinds and the actor recorded on every event (SPEC §2).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::CreditCode;

/// A name that is not one of a closed set (a jurisdiction, role or kind).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} \"{value}\"; expected one of: {expected}")]
pub struct UnknownName {
    pub what: &'static str,
    pub value: String,
    pub expected: String,
}

macro_rules! closed_set {
    ($(#[$meta:meta])* $name:ident, $what:literal, { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable snake-case name used in JSON, tokens and stored records.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownName;

            fn from_str(value: &str) -> Result<Self, UnknownName> {
                match value {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownName {
                        what: $what,
                        value: value.to_owned(),
                        expected: [$($text),+].join(", "),
                    }),
                }
            }
        }
    };
}

closed_set!(
    /// The two jurisdictions, each with its own budget and redemption payments (SPEC §2, Measures art. 2, 4, 11).
    Jurisdiction, "jurisdiction", {
        /// 贵阳市, bureau 市工业和信息化局.
        Guiyang => "guiyang",
        /// 贵安新区, bureau 贵安新区工业和信息化局.
        Guian => "guian",
    }
);

closed_set!(
    /// The roles of SPEC §2. `Public` is the unauthenticated party; `System` is the service's scheduler.
    Role, "role", {
        Finance => "finance",
        Bureau => "bureau",
        ServiceCenter => "service_center",
        Reviewer => "reviewer",
        Auditor => "auditor",
        Enterprise => "enterprise",
        ProjectEntity => "project_entity",
        Provider => "provider",
        Public => "public",
        System => "system",
        /// Runs the service: sets the manual clock in test mode; records nothing and reads nothing.
        Operator => "operator",
    }
);

impl Role {
    /// The roles a bearer token may carry (the others are never authenticated).
    pub const AUTHENTICATED: &'static [Role] = &[
        Role::Finance,
        Role::Bureau,
        Role::ServiceCenter,
        Role::Reviewer,
        Role::Auditor,
        Role::Enterprise,
        Role::ProjectEntity,
        Role::Provider,
        Role::Operator,
    ];

    /// The applicant kind an applicant role acts as, if it is one.
    pub fn applicant_kind(self) -> Option<ApplicantKind> {
        match self {
            Role::Enterprise => Some(ApplicantKind::Enterprise),
            Role::ProjectEntity => Some(ApplicantKind::ProjectEntity),
            _ => None,
        }
    }
}

closed_set!(
    /// The two kinds of applicant (Measures art. 6), each with its own annual cap (art. 7).
    ApplicantKind, "applicant kind", {
        /// 工业企业.
        Enterprise => "enterprise",
        /// 工业项目主体.
        ProjectEntity => "project_entity",
    }
);

/// The party behind a command, recorded on every event it causes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The authenticated subject (the token's `sub`).
    pub subject: String,
    pub role: Role,
    /// The jurisdiction the actor acts in; `None` only for the public.
    pub jurisdiction: Option<Jurisdiction>,
    /// For enterprises, project entities and providers: the legal person they act as.
    pub credit_code: Option<CreditCode>,
}

impl Actor {
    /// True when the actor has `role` in `jurisdiction`.
    pub fn is(&self, role: Role, jurisdiction: Jurisdiction) -> bool {
        self.role == role && self.jurisdiction == Some(jurisdiction)
    }
}
