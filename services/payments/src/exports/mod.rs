//! The finance files a payment run writes under its own folder ([`run_files`]): the CSV
//! journal for the authority's ledger ([`journal`]), and the bank files paying each payee
//! ([`bank`]): Bacs Standard 18 ([`bacs`]) and ISO 20022 pain.001 ([`pain001`]).
//!
//! Files are written to a temporary name and renamed into place, so a file under its final
//! name is always whole; a run finished again writes the same content.

pub mod bacs;
pub mod bank;
pub mod journal;
pub mod pain001;
pub mod run_files;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use sds_vocabulary::AuthorityId;
use uuid::Uuid;

/// The run's folder: `<exports>/<authority>/<run date>_<run id>`.
pub fn run_folder(
    exports: &Path,
    authority: &AuthorityId,
    run_date: NaiveDate,
    run_id: Uuid,
) -> PathBuf {
    exports
        .join(authority.as_str())
        .join(format!("{run_date}_{run_id}"))
}

/// A file being written: under a temporary name until [`PendingFile::finish`] renames it.
pub struct PendingFile {
    path: PathBuf,
    temporary: PathBuf,
    writer: std::io::BufWriter<std::fs::File>,
}

impl PendingFile {
    pub fn create(folder: &Path, name: &str) -> std::io::Result<PendingFile> {
        std::fs::create_dir_all(folder)?;
        let path = folder.join(name);
        let temporary = folder.join(format!(".{name}.partial"));
        let file = std::fs::File::create(&temporary)?;
        Ok(PendingFile {
            path,
            temporary,
            writer: std::io::BufWriter::new(file),
        })
    }

    pub fn writer(&mut self) -> &mut impl std::io::Write {
        &mut self.writer
    }

    /// Flushes to disk and renames the file into place; returns its final path.
    pub fn finish(mut self) -> std::io::Result<PathBuf> {
        self.writer.flush()?;
        self.writer.get_ref().sync_all()?;
        std::fs::rename(&self.temporary, &self.path)?;
        Ok(self.path)
    }
}
