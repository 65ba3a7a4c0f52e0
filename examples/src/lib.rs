//! Example hosts for spanplug.

pub mod multi_service;
