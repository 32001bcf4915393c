//! Pages and components.

pub mod avatar;
pub mod form;
pub mod head;
pub mod join_links;
pub mod live;
pub mod outbox;
pub mod paged;
pub mod pages;
pub mod person;
pub mod push;
pub mod pwa;
pub mod render_loads;
pub mod session;
pub mod shell;
pub mod time;
pub mod timeline;
