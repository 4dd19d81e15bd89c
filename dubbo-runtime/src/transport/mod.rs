//! Listening sockets shared by the protocols: the accept loop, connection tracking, and the
//! two-stage shutdown (graceful drain, then forced close after a grace period).

pub(crate) mod coalesce;
pub(crate) mod inline_wake;
mod listener;

pub(crate) use listener::{ConnectionHandler, Listener, ShutdownSignal};
