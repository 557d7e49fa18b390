//! Integration tests, compiled into one binary (`autotests = false`).

mod audit;
mod batch;
mod cli;
mod corpus;
mod dense;
mod engine;
mod headers;
mod hostile;
mod hostile_pdf;
mod name_model;
mod records;
#[path = "support/roster.rs"]
mod roster;
mod service;
mod surfaces;
