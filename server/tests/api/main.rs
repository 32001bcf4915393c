//! The server's integration tests, as one test binary (as zero2prod's
//! `tests/api`): the real server on random ports, fresh databases, real
//! HTTP and WebSocket clients. One binary links the server once, where one
//! per file linked it nine times.

mod access;
mod accounts;
mod admin;
mod attachments;
mod cluster;
mod instances;
mod live;
mod messages;
mod pages;
mod profiles;
mod push;
mod pwa;
mod rooms;
mod schema;
mod social;
mod support;
