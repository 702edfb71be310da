//! Server-Sent Events streams that keep pages current without reloads: a
//! customer's meters ([`customer`]) and the admin panel's usage board ([`admin`]).
//! Both count against the per-user and per-process caps of
//! [`tollgate::service::live::LiveHub::open_stream`].

pub mod admin;
pub mod customer;
pub mod snapshots;

pub use admin::board_stream;
pub use customer::usage_stream;
