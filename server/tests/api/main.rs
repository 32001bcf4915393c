#![recursion_limit = "512"]
//! The server's integration tests, as one test binary (as zero2prod's
//! `tests/api`): the real server on random ports, fresh databases, real
//! HTTP and WebSocket clients. One binary links the server once, where one
//! per file linked it nine times.

mod access;
mod account_data;
mod accounts;
mod admin;
mod attachments;
mod backup;
mod cluster;
mod instances;
mod join_links;
mod live;
mod messages;
mod pages;
mod proxy;
mod profiles;
mod push;
mod resets;
mod pwa;
mod rooms;
mod schema;
mod social;
mod tls;
mod support;
