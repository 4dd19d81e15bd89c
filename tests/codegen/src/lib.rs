//! Code generated from awkward protos; that it compiles is the first test.

#![allow(missing_docs)]

include!(concat!(env!("OUT_DIR"), "/protos.rs"));
