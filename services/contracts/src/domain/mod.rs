//! The rules of agreements, rates and fees, pure: every function takes what it needs and
//! returns a value or a field-path refusal ([`sds_vocabulary::Invalid`]).
pub mod readability;
pub mod summary;
