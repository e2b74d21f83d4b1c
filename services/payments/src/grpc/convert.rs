//! Domain values as protobuf messages.

use chrono::NaiveDate;
use sds_money::Money;
use sds_proto::v1 as proto;

pub fn money_message(amount: Money) -> proto::Money {
    proto::Money {
        amount: amount.to_string(),
    }
}

pub fn date_message(day: NaiveDate) -> proto::Date {
    proto::Date {
        iso: day.format("%Y-%m-%d").to_string(),
    }
}
