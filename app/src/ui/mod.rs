//! Pages and components.

pub mod avatar;
pub mod form;
pub mod pages;
pub mod session;
pub mod shell;
