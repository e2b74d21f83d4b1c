//! A CSV file a user hands the CLI: the reader lives in `sds_vocabulary::csv_file`, shared
//! with the portal's upload of the same files, so a file reads the same in both.

pub use sds_vocabulary::csv_file::{CsvFile, Shape, physical_line, swallowed_rows};
