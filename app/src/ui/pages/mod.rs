//! One module per page.

pub mod admin;
pub mod auth;
pub mod friends;
pub mod home;
pub mod not_found;
pub mod profile;
pub mod room;
pub mod search;
pub mod user;
