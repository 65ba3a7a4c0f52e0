//! What the `spanplug` command does, one module per job: reading span files back
//! (`spans_file`), drawing them as trees (`tree`) or an HTML waterfall (`waterfall`),
//! escaping what it prints (`terminal`), installing plugins (`install`, from a
//! bundle's `manifest`), and making a new plugin crate (`new_plugin`). A library
//! too, so that the examples and tests can read span files the way the command does.

#![warn(missing_docs)]

pub mod install;
pub mod manifest;
pub mod new_plugin;
pub mod spans_file;
mod staged;
pub mod terminal;
pub mod tree;
pub mod waterfall;
