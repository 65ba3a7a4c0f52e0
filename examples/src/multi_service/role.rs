//! The example's processes and who calls whom.

/// The processes of the example, in start order (downstream first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Role {
    Notification,
    Database,
    User,
    Gateway,
    Proxy,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Notification,
        Role::Database,
        Role::User,
        Role::Gateway,
        Role::Proxy,
    ];

    pub fn from_name(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.name() == name)
    }

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Role::Notification => "notification",
            Role::Database => "database",
            Role::User => "user",
            Role::Gateway => "gateway",
            Role::Proxy => "proxy",
        }
    }

    /// The Ray Serve deployment name, also the service name.
    pub fn deployment(self) -> &'static str {
        match self {
            Role::Notification => "NotificationService",
            Role::Database => "DatabaseService",
            Role::User => "UserService",
            Role::Gateway => "APIGateway",
            Role::Proxy => "proxy",
        }
    }

    /// The roles this one calls.
    pub fn downstream(self) -> &'static [Role] {
        match self {
            Role::Proxy => &[Role::Gateway],
            Role::Gateway => &[Role::User],
            Role::User => &[Role::Database, Role::Notification],
            Role::Database | Role::Notification => &[],
        }
    }
}
