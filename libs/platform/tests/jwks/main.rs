//! Bearer tokens verified against a JWKS served by a real HTTP server on a free port (or
//! read from a file): keys rotated without downtime (`rotation`), tokens refused for what
//! is wrong with them (`refusals`), and the set kept fresh, learnt on demand without
//! hammering the server, and kept when a fetch fails (`refresh`). One test binary, so the
//! workspace links it once.

mod refresh;
mod refusals;
mod rotation;
mod support;
