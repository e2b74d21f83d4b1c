//! Contracts: the agreement between the person, the provider, the authority and the fund
//! holder, in plain language, carrying the terms that payments follow; the provider's rate
//! card with its components and scheduled uplifts; the management fee in every form
//! authorities use.
//!
//! This first slice is the pure domain core ([`domain`]: no IO, no clock); the service
//! unit (gRPC, store, events) builds on it the way the directory and assessment do.

pub mod domain;
