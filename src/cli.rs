//! The command's arguments.
