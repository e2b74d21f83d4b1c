//! The gRPC server bootstrap on real sockets. One test binary, so the workspace links it
//! once: what requests get (`requests`), what connections may do (`connections`) and what
//! a request can put in the logs (`logs`).

mod connections;
mod logs;
mod requests;
mod support;
