//! Integration tests, compiled into one binary (`autotests = false`).

mod cli;
mod corpus;
mod engine;
