//! The gRPC server bootstrap on real sockets. One test binary, so the workspace links it
//! once: what requests get (`requests`) and what connections may do (`connections`).

mod connections;
mod requests;
mod support;
