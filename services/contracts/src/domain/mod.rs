//! The rules of agreements, rates and fees, pure: every function takes what it needs and
//! returns a value or a field-path refusal ([`sds_vocabulary::Invalid`]).

mod plain_words;
pub mod readability;
pub mod summary;
