//! Domain types shared by the server and the browser, and the rules that
//! decide what a valid value is ("parse, don't validate"). The browser runs
//! the same parsers for instant feedback; the server runs them again.

mod account;
mod admin;
mod attachment;
mod join;
mod linkify;
mod local_path;
#[cfg(feature = "ssr")]
pub mod markup;
mod message;
mod notify;
pub mod protocol;
mod room;
mod search;
mod social;

pub use account::*;
pub use admin::*;
pub use attachment::*;
pub use join::*;
pub use linkify::*;
pub use local_path::LocalPath;
pub use message::*;
pub use notify::*;
pub use room::*;
pub use search::*;
pub use social::*;

use crate::error::Problem;

/// The checks every name goes through, in the order their problems are
/// told: `input` trimmed, present, made of `allowed` characters (else
/// `disallowed`), and `min..=max` characters long.
fn parse_name(
    input: &str,
    (min, max): (usize, usize),
    allowed: impl Fn(char) -> bool,
    disallowed: Problem,
) -> Result<&str, Problem> {
    let name = input.trim();
    let len = name.chars().count();
    if len == 0 {
        return Err(Problem::Required);
    }
    if !name.chars().all(allowed) {
        return Err(disallowed);
    }
    if len < min {
        return Err(Problem::TooShort { min });
    }
    if len > max {
        return Err(Problem::TooLong { max });
    }
    Ok(name)
}
