//! The portal's pure rules: who a subscriber is (from its token), what a resume cursor may
//! be, what a notification says, and who is told what about each fact. No IO, no clock.

pub mod cursor;
pub mod notice;
pub mod recipients;
pub mod subscriber;

pub use cursor::Cursor;
pub use notice::{Notice, NoticeKind};
pub use subscriber::{Subscriber, SubscriberKind};
