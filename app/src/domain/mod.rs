//! Domain types shared by the server and the browser, and the rules that
//! decide what a valid value is ("parse, don't validate"). The browser runs
//! the same parsers for instant feedback; the server runs them again.

mod account;
mod linkify;
mod local_path;
pub mod protocol;
mod room;
mod social;

pub use account::*;
pub use linkify::*;
pub use local_path::LocalPath;
pub use room::*;
pub use social::*;
