//! Integration tests, compiled into one binary (`autotests = false`).

mod audit;
mod cli;
mod corpus;
mod engine;
mod service;
