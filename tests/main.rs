//! Integration tests, compiled into one binary (`autotests = false`).

mod audit;
mod batch;
mod cli;
mod corpus;
mod dense;
mod engine;
mod headers;
mod records;
mod service;
